//! `cargo xtask dev [--reset]`: the whole platform on this machine, until Ctrl-C.

use crate::run::root;
use crate::setup;
use crate::stack::{Stack, StackOptions, build_origin_runner};
use std::time::Duration;

/// Reads a port from the environment, with a default.
pub fn port_from_env(name: &str, default: u16) -> Result<u16, String> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(text) => text
            .trim()
            .parse()
            .ok()
            .filter(|port| *port > 0)
            .ok_or_else(|| format!("{name} must be a port number (1-65535), got `{text}`")),
    }
}

pub fn run(args: &[String]) -> Result<(), String> {
    let reset = match args {
        [] => false,
        [flag] if flag == "--reset" => true,
        _ => return Err("usage: cargo xtask dev [--reset]   (--reset wipes .data/ first)".into()),
    };
    let edge_port = port_from_env("EDGE_PORT", 8787)?;
    let s3_port = port_from_env("S3_PORT", 8333)?;
    for (name, port) in [("EDGE_PORT", edge_port), ("S3_PORT", s3_port)] {
        if testkit::port_in_use(port) {
            return Err(format!(
                "port {port} on 127.0.0.1 is busy: stop what uses it, or set {name} to a free port"
            ));
        }
    }

    println!("==> install missing tools");
    setup::ensure(setup::LOCAL_STACK)?;

    let data_dir = root().join(".data");
    if reset && data_dir.exists() {
        println!("==> --reset: removing {}", data_dir.display());
        std::fs::remove_dir_all(&data_dir).map_err(|e| format!("remove .data: {e}"))?;
    }
    println!("==> build the origin runner");
    let runner = build_origin_runner()?;

    println!("==> start the stack (data in .data/)");
    let overrides = ["DEV_ADMIN_EMAIL", "DEV_ADMIN_PASSWORD"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok().map(|v| (name.to_string(), v)))
        .collect();
    let stack = Stack::start(
        &StackOptions {
            edge_port,
            s3_port,
            data_dir,
            overrides,
            web_in_place: true,
            prebuilt_worker: false,
        },
        &runner,
    )?;
    println!();
    println!("ready: {}", stack.base_url);
    println!("sign in: {} / {}", stack.admin_email, stack.admin_password);
    println!(
        "logs: .data/logs/ (wrangler.log, origin.log) and .data/seaweedfs/weed.log; Ctrl-C stops everything"
    );
    // Ctrl-C ends this process; every part is supervised and stops with it.
    loop {
        std::thread::sleep(Duration::from_secs(1));
        if let Some(failure) = stack.failed_part() {
            return Err(failure);
        }
    }
}
