//! The real edge, in-process: the router on its native shell (SQLite with the real
//! migrations, the dev settings pointed at the test SeaweedFS), served over HTTP on loopback
//! so the origin reaches it exactly as it reaches the Worker. Its clock is shared with the
//! test, which moves it.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use edge::app::App;
use edge::config::Config;
use edge::platform::native::{NativeClock, NativePlatform, RateLimits, Sqlite};
use model::Timestamp;
use origin::clock::Clock;

use super::{WEBHOOK_SECRET, read_request};

/// A clock the test moves, shared by the edge and the origin's calls to it.
#[derive(Clone)]
pub struct SharedClock(pub Arc<Mutex<Timestamp>>);

impl Clock for SharedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

impl SharedClock {
    pub fn advance(&self, by: std::time::Duration) {
        let mut now = self.0.lock().unwrap();
        *now = *now + by;
    }
}

pub struct RealEdge {
    pub url: String,
    pub clock: SharedClock,
}

impl RealEdge {
    pub fn start(weed: &testkit::SeaweedFs) -> RealEdge {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the edge");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let clock = SharedClock(Arc::new(Mutex::new(Timestamp::from_system_time(
            testkit::now(),
        ))));
        let settings: Vec<(&str, String)> = vec![
            ("ENVIRONMENT", "development".into()),
            ("S3_ENDPOINT", weed.s3_endpoint.clone()),
            ("S3_REGION", testkit::S3_REGION.into()),
            ("S3_ACCESS_KEY_ID", testkit::S3_ACCESS_KEY.into()),
            ("S3_SECRET_ACCESS_KEY", testkit::S3_SECRET_KEY.into()),
            (
                "JWT_SIGNING_KEY",
                "K7soNXAvUHVRyBiAl/ukGcJWe2dy8AcrKDcbrCEKGuI=".into(),
            ),
            ("WEBHOOK_SECRET", WEBHOOK_SECRET.into()),
            ("EDGE_TOKEN_SECRET", "test-edge-token-secret".into()),
        ];
        let shared = clock.0.clone();
        std::thread::spawn(move || {
            let config = Config::from_lookup(|name| {
                settings
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.clone())
            })
            .expect("valid edge settings");
            let platform = NativePlatform::new(
                Sqlite::in_memory(&testkit::workspace_root().join("migrations"))
                    .expect("SQLite with the migrations"),
                NativeClock::Fixed(shared),
                RateLimits::new(60),
            );
            let app = App::new(config, platform);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some((method, path, headers, body)) = read_request(&mut stream) else {
                    continue;
                };
                let mut request = http::Request::builder()
                    .method(method.as_str())
                    .uri(format!("http://127.0.0.1{path}"));
                for (name, value) in &headers {
                    request = request.header(name, value);
                }
                let Ok(request) = request.body(body) else {
                    continue;
                };
                let response = runtime.block_on(app.serve_buffered(request));
                super::write_response(&mut stream, response);
            }
        });
        RealEdge { url, clock }
    }
}
