//! Wakes the poller the moment an upload lands: SeaweedFS has no S3 bucket notifications,
//! but its filer streams every metadata change (`weed filer.meta.tail`). Any line under the
//! incoming bucket's `uploads/` means "poll now". The poll stays the one place that decides
//! what is new (against the state directory), so a missed or repeated line costs at most a
//! poll interval or one extra listing, never a missed or doubled conversion.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use model::BucketName;
use model::storage::KeyPrefix;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::Notify;

/// Where the filer is and how to reach it (`FILER_ADDRESS`, `WEED_BIN`).
#[derive(Debug, Clone)]
pub struct FilerTail {
    /// `host:port.grpcPort`, as `weed filer.meta.tail -filer=` takes it.
    pub address: String,
    pub weed: PathBuf,
}

/// After the tail stops (the filer restarted, say), it is started again this much later.
const RESTART_DELAY: Duration = Duration::from_secs(1);
/// A (re)started tail replays this much history first: what landed while it was connecting
/// wakes the poller too.
const REPLAY: &str = "-timeAgo=1m";

impl FilerTail {
    /// Tails the filer for ever, waking `uploads` on every change under `incoming`'s uploads.
    pub async fn run(self, incoming: BucketName, uploads: Arc<Notify>) {
        let prefix = format!("/buckets/{incoming}/{}", KeyPrefix::all_sources());
        loop {
            if let Err(e) = self.tail(&prefix, &uploads).await {
                eprintln!("origin-local: tailing the filer at {}: {e}", self.address);
            }
            // Whatever happened while the tail was down, the next poll finds.
            uploads.notify_one();
            tokio::time::sleep(RESTART_DELAY).await;
        }
    }

    async fn tail(&self, prefix: &str, uploads: &Notify) -> std::io::Result<()> {
        let mut child = Command::new(&self.weed)
            .arg("filer.meta.tail")
            .arg(format!("-filer={}", self.address))
            .arg(format!("-pathPrefix={prefix}"))
            .arg(REPLAY)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        while lines.next_line().await?.is_some() {
            uploads.notify_one();
        }
        child.wait().await.map(|_| ())
    }
}
