//! The local runner (`origin-local`, started by `cargo xtask dev`): notices new uploads in
//! SeaweedFS's incoming bucket ([`poller`], woken at once by the filer's change feed:
//! [`watcher`]), feeds the handler the same S3 notification JSON AWS sends, converts with
//! FFmpeg in MediaConvert's place ([`transcoder`], [`runner`]), finishes and uploads the
//! outputs ([`outputs`]), and feeds the handler `MediaConvert Job State Change` events for
//! progress and the end of each job. What it must remember across
//! restarts lives in its [`state`] directory.

mod outputs;
pub mod poller;
pub mod runner;
pub mod state;
pub mod transcoder;
pub mod watcher;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::clock::SystemClock;
use crate::config::LocalConfig;
use crate::edge::{HttpEdge, Outbox};
use crate::error::{Error, Result};
use crate::handler::Origin;
use crate::s3::S3Store;

pub use poller::poll_once;
pub use runner::JobRunner;
pub use state::{JobRecord, Stage, StateDir};
pub use transcoder::FfmpegTranscoder;

pub type LocalOrigin<S, E, C> = Origin<FfmpegTranscoder<S>, S, E, C>;

pub type Runner =
    LocalOrigin<S3Store<SystemClock>, Arc<Outbox<SystemClock, S3Store<SystemClock>>>, SystemClock>;

/// A running local pipeline; its tasks stop when this is dropped.
pub struct RunningPipeline {
    pub origin: Arc<Runner>,
    pub state: Arc<StateDir>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for RunningPipeline {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts the poller, the job runner and the edge outbox on the current runtime.
pub fn start(config: LocalConfig) -> Result<RunningPipeline> {
    let state = Arc::new(StateDir::open(&config.state_dir)?);
    let http = reqwest::Client::builder()
        .build()
        .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
    let mut store = S3Store::new(&config.s3, http.clone(), SystemClock)?;
    store.part_size = config.part_size;
    let hook = HttpEdge::new(
        &config.edge_url,
        config.webhook_secret.clone(),
        http,
        SystemClock,
    );
    let outbox = Outbox::new(
        &state.outbox(),
        hook,
        (store.clone(), config.buckets.incoming.clone()),
    )?;
    let (transcoder, queue) =
        FfmpegTranscoder::new(store.clone(), config.ffmpeg.clone(), state.clone());
    let requeue = transcoder.queue.clone();
    let origin = Arc::new(Origin {
        buckets: config.buckets.clone(),
        caps: config.caps,
        transcoder,
        store,
        edge: outbox.clone(),
        clock: SystemClock,
    });
    let mut tasks = vec![tokio::spawn(outbox.run())];
    let runner = JobRunner {
        origin: origin.clone(),
        region: config.region.clone(),
    };
    tasks.push(tokio::spawn(runner.run(queue, requeue)));
    let uploads = Arc::new(Notify::new());
    if let Some(tail) = config.filer_tail.clone() {
        tasks.push(tokio::spawn(
            tail.run(config.buckets.incoming.clone(), uploads.clone()),
        ));
    }
    let poller = origin.clone();
    let region = config.region.clone();
    let interval = config.poll_interval;
    tasks.push(tokio::spawn(async move {
        loop {
            if let Err(e) = poll_once(&poller, &region).await {
                eprintln!("origin-local: polling {}: {e}", poller.buckets.incoming);
            }
            // The next poll at the interval, or at once when the filer says an upload landed.
            let _ = tokio::time::timeout(interval, uploads.notified()).await;
        }
    }));
    Ok(RunningPipeline {
        origin,
        state,
        tasks,
    })
}
