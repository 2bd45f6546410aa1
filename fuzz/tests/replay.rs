//! The short fuzz run of `cargo test` (stable, no libFuzzer): per target, every file of
//! `corpus/<target>/` and then a bounded proptest pass over mutated corpus files and random
//! bytes, each case within a time budget. A case that panics, breaks a property, or takes
//! longer than the budget fails the test with the input named (corpus) or shown in hex
//! (proptest, shrunk); a hung case fails once the watchdog gives up on it.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use fuzz::{TARGETS, Target};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

/// The most one input may take (a debug build on a busy 2-core machine included).
const TIME_BUDGET: Duration = Duration::from_secs(1);
/// How long the watchdog waits for a case before calling it hung.
const HANG: Duration = Duration::from_secs(20);
/// Generated cases per target: with the corpus, a few seconds for all targets together.
const CASES: u32 = 1500;
/// The longest random input (mutated corpus files may be longer).
const MAX_RANDOM_LEN: usize = 2048;

macro_rules! replay_tests {
    ($($target:ident),* $(,)?) => {
        /// Every target this file has a test for (checked against [`TARGETS`]).
        const TESTED: &[&str] = &[$(stringify!($target)),*];
        $(
            #[test]
            fn $target() {
                replay(stringify!($target));
            }
        )*
    };
}

replay_tests!(
    mp4,
    s3_xml,
    jwt,
    cookie,
    webhook_signature,
    route,
    list_cursor,
    multipart_plan,
    hls_playlist,
    storyboard_vtt,
    model_names,
    job_event,
);

#[test]
fn every_target_has_a_test_a_corpus_and_a_libfuzzer_binary() {
    let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
    assert_eq!(names, TESTED);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in &names {
        let binary = root.join(format!("libfuzzer/fuzz_targets/{name}.rs"));
        let source = std::fs::read_to_string(&binary)
            .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
        assert!(
            source.contains(&format!("fuzz::{name}(")),
            "{}",
            binary.display()
        );
    }
    for entry in std::fs::read_dir(root.join("corpus")).expect("fuzz/corpus/") {
        let path = entry.expect("a corpus entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        assert!(
            !path.is_dir() || names.contains(&&*name),
            "corpus/{name}/ belongs to no target"
        );
    }
}

fn replay(name: &str) {
    let target = TARGETS.iter().find(|t| t.name == name).expect("a target");
    let corpus = corpus(name);
    assert!(!corpus.is_empty(), "fuzz/corpus/{name}/ is empty");
    let seeds: Vec<Vec<u8>> = corpus.iter().map(|(_, bytes)| bytes.clone()).collect();
    watched(name, corpus, target.run);
    generated(target, seeds);
}

/// The files of `corpus/<name>/`, sorted by name.
fn corpus(name: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(name);
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .filter(|path| path.is_file())
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, bytes)
        })
        .collect();
    files.sort();
    files
}

/// Runs every input on a worker thread, failing on a panic, a slow case or a hung one.
fn watched(name: &str, inputs: Vec<(PathBuf, Vec<u8>)>, run: fn(&[u8])) {
    let paths: Vec<PathBuf> = inputs.iter().map(|(path, _)| path.clone()).collect();
    let (report, reports) = mpsc::channel();
    std::thread::spawn(move || {
        for (index, (_, bytes)) in inputs.into_iter().enumerate() {
            let started = Instant::now();
            let outcome = catch_unwind(AssertUnwindSafe(|| run(&bytes)));
            if report
                .send((index, outcome.is_ok(), started.elapsed()))
                .is_err()
            {
                return;
            }
        }
    });
    for (index, path) in paths.iter().enumerate() {
        match reports.recv_timeout(HANG) {
            Ok((done, passed, took)) => {
                assert_eq!(done, index);
                assert!(
                    passed,
                    "{name}: {} fails (the panic is above)",
                    path.display()
                );
                assert!(
                    took <= TIME_BUDGET,
                    "{name}: {} took {took:?}, over the {TIME_BUDGET:?} budget",
                    path.display()
                );
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!("{name}: {} still runs after {HANG:?}", path.display())
            }
            Err(RecvTimeoutError::Disconnected) => panic!("{name}: the worker died"),
        }
    }
}

/// Proptest over corpus files with a few mutations each, and over random bytes; a failure
/// is shrunk and shown in hex, ready to become a corpus file once fixed.
fn generated(target: &'static Target, seeds: Vec<Vec<u8>>) {
    quiet_panics_while_generating();
    let (report, outcome) = mpsc::channel();
    let worker = std::thread::Builder::new().name(format!("{}{GENERATING}", target.name));
    let spawned = worker.spawn(move || {
        let config = Config {
            cases: CASES,
            failure_persistence: None,
            max_shrink_time: 30_000,
            ..Config::default()
        };
        let inputs = prop_oneof![
            3 => (select(seeds), vec(mutation(), 1..6)).prop_map(|(seed, edits)| {
                edits.iter().fold(seed, |bytes, edit| edit.apply(bytes))
            }),
            1 => vec(any::<u8>(), 0..MAX_RANDOM_LEN),
        ];
        let result = TestRunner::new(config).run(&inputs, |bytes| {
            let started = Instant::now();
            if catch_unwind(|| (target.run)(&bytes)).is_err() {
                let panic = LAST_PANIC.with(|last| last.borrow_mut().take());
                return Err(TestCaseError::fail(panic.unwrap_or_default()));
            }
            let took = started.elapsed();
            if took > TIME_BUDGET {
                return Err(TestCaseError::fail(format!("took {took:?}")));
            }
            Ok(())
        });
        let _ = report.send(result);
    });
    spawned.expect("a thread for the generated cases");
    let name = target.name;
    // The whole pass: generous, it only stops a hang from stalling the suite.
    match outcome.recv_timeout(HANG * 6) {
        Ok(Ok(())) => {}
        Ok(Err(TestError::Fail(reason, bytes))) => panic!(
            "{name}: {reason}\nminimal input ({} bytes, hex): {}\nonce fixed, keep it as a \
             file in fuzz/corpus/{name}/",
            bytes.len(),
            hex(&bytes)
        ),
        Ok(Err(abort)) => panic!("{name}: {abort}"),
        Err(_) => panic!(
            "{name}: the generated cases did not finish within {:?}",
            HANG * 6
        ),
    }
}

/// Names the threads of [`generated`], whose panics [`quiet_panics_while_generating`] keeps.
const GENERATING: &str = " (generated)";

thread_local! {
    /// The last panic on this thread, where and why: the reason a generated case failed.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Proptest runs a failing case hundreds of times while it shrinks it: on its threads a
/// panic is kept for the report instead of printed. Other threads print as usual.
fn quiet_panics_while_generating() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let print = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let current = std::thread::current();
            if current
                .name()
                .is_some_and(|name| name.ends_with(GENERATING))
            {
                LAST_PANIC.with(|last| *last.borrow_mut() = Some(info.to_string()));
            } else {
                print(info);
            }
        }));
    });
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One edit of a corpus file: bytes overwritten, inserted or removed at a place, the file
/// cut short, or a token that parsers treat specially spliced in.
#[derive(Debug, Clone)]
enum Edit {
    Overwrite(usize, Vec<u8>),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
    Truncate(usize),
    Token(usize, &'static str),
}

/// Numbers at the edges of their types, separators and markup the parsers split on.
const TOKENS: &[&str] = &[
    "0",
    "-1",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "18446744073709551615",
    "99999999999999999999",
    "\n",
    "\r\n",
    "\r",
    "\"",
    "'",
    ",",
    ";",
    "=",
    ":",
    ".",
    "..",
    "/",
    "%",
    "%2F",
    "+",
    "#",
    "?",
    "&amp;",
    "&#0;",
    "<",
    ">",
    "<![CDATA[",
    "]]>",
    " --> ",
    "#xywh=",
    "URI=\"",
    "\u{0}",
    "\u{202e}",
    "\u{ffff}",
];

fn mutation() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), vec(any::<u8>(), 1..8)).prop_map(|(at, b)| Edit::Overwrite(at, b)),
        (any::<usize>(), vec(any::<u8>(), 1..8)).prop_map(|(at, b)| Edit::Insert(at, b)),
        (any::<usize>(), 1..64usize).prop_map(|(at, n)| Edit::Remove(at, n)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), select(TOKENS)).prop_map(|(at, t)| Edit::Token(at, t)),
    ]
}

impl Edit {
    fn apply(&self, mut bytes: Vec<u8>) -> Vec<u8> {
        let place = |at: usize, bytes: &Vec<u8>| at % (bytes.len() + 1);
        match self {
            Edit::Overwrite(at, new) => {
                let at = place(*at, &bytes);
                let end = (at + new.len()).min(bytes.len());
                bytes.splice(at..end, new.iter().copied());
            }
            Edit::Insert(at, new) => {
                let at = place(*at, &bytes);
                bytes.splice(at..at, new.iter().copied());
            }
            Edit::Remove(at, n) => {
                let at = place(*at, &bytes);
                bytes.drain(at..(at + n).min(bytes.len()));
            }
            Edit::Truncate(at) => bytes.truncate(place(*at, &bytes)),
            Edit::Token(at, token) => {
                let at = place(*at, &bytes);
                bytes.splice(at..at, token.bytes());
            }
        }
        bytes
    }
}
