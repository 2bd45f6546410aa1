//! `cargo xtask dev|test|bench|deploy`: the one entry point for people and CI.
//!
//! Every subcommand first makes sure the tools it needs are installed (idempotently, with
//! progress output), then runs. std only, so it builds in seconds on a fresh clone.

mod bench;
mod deploy;
mod dev;
mod run;
mod setup;
mod stack;
mod test;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test     install what is missing, then every check and test suite (CI runs this)
  dev      the whole platform locally on http://127.0.0.1:8787
  bench    benchmarks, printed as ratios against baselines measured in the same run
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
