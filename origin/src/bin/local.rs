//! `origin-local`: the local runner `cargo xtask dev` starts (SeaweedFS + FFmpeg).

use origin::config::local_from_env;

#[tokio::main]
async fn main() {
    let config = match local_from_env(|k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("origin-local: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "origin-local: watching s3://{} at {} (state in {}), converting into s3://{}, reporting to {}",
        config.buckets.incoming,
        config.s3.endpoint,
        config.state_dir.display(),
        config.buckets.media,
        config.edge_url
    );
    let running = match origin::local::start(config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("origin-local: {e}");
            std::process::exit(1);
        }
    };
    // Ctrl-C from a terminal, SIGTERM from `cargo xtask dev` or a service manager.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    println!("origin-local: stopping");
    drop(running);
}
