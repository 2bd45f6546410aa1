//! `cargo xtask dev|test|bench|fuzz|stress|deploy`: the one entry point for people and CI.
//!
//! Every subcommand first makes sure the tools it needs are installed (idempotently, with
//! progress output), then runs. Its few dependencies (serde_json, toml) build in seconds.

mod api;
mod bench;
mod deploy;
mod dev;
mod fuzz;
mod headers;
mod run;
mod schema;
mod setup;
mod stack;
mod stress;
mod test;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test     install what is missing, then every check and test suite (CI runs this)
  dev      the whole platform locally on http://127.0.0.1:8787
  bench    benchmarks, printed as ratios against baselines measured in the same run
  fuzz     the long parser fuzzing (nightly, cargo-fuzz): [target] [--seconds N per target]
  stress   fault-injection suites, then restarts, load and contract fuzzing on a local stack:
           [suites|stack] for one half
  deploy   build and deploy to Cloudflare and AWS (--dry-run: build and validate only)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        "test" => test::run(rest),
        "dev" => dev::run(rest),
        "bench" => bench::run(rest),
        "fuzz" => fuzz::run(rest),
        "stress" => stress::run(rest),
        "deploy" => deploy::run(rest),
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
