//! Child processes that stop with their owner, whatever way it ends.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process that cannot outlive its owner. A supervising shell starts it in a
/// session of its own and stops that whole process group (children included) when our end
/// of its stdin closes: when this value is dropped, or when the owner exits in any way,
/// Ctrl-C and kill included.
#[derive(Debug)]
pub struct Supervised {
    name: String,
    log: PathBuf,
    pid: u32,
    shell: Child,
}

impl Supervised {
    /// Starts `command` (program, arguments, environment and directory are taken from it)
    /// with its output in `log`; `remove_after` is deleted once it has stopped.
    pub fn spawn(
        name: &str,
        command: &Command,
        log: &Path,
        remove_after: Option<&Path>,
    ) -> Supervised {
        // The shell reports the child's pid, then ignores INT, TERM and HUP (so does `cat`,
        // inheriting that): a signal to the owner's whole process group (Ctrl-C, `kill
        // -TERM -<pgid>`) ends the owner, whose exit closes the pipe. On that EOF the child,
        // in a session of its own, gets TERM, then KILL if it lingers.
        const SCRIPT: &str = r#"log=$1; cleanup=$2; shift 2
setsid "$@" >"$log" 2>&1 </dev/null & child=$!
echo $child
trap '' INT TERM HUP
cat >/dev/null
kill -TERM -$child 2>/dev/null
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  kill -0 -$child 2>/dev/null || break
  sleep 0.25
done
kill -KILL -$child 2>/dev/null
wait $child 2>/dev/null
[ -n "$cleanup" ] && rm -rf "$cleanup"
exit 0"#;
        let mut shell = Command::new("sh");
        shell
            .arg("-c")
            .arg(SCRIPT)
            .arg("sh")
            .arg(log)
            .arg(remove_after.unwrap_or(Path::new("")))
            .arg(command.get_program())
            .args(command.get_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => shell.env(key, value),
                None => shell.env_remove(key),
            };
        }
        if let Some(dir) = command.get_current_dir() {
            shell.current_dir(dir);
        }
        let program = command.get_program().to_string_lossy().into_owned();
        let mut shell = shell
            .spawn()
            .unwrap_or_else(|e| panic!("start {name} ({program}): {e}"));
        let mut line = String::new();
        if let Some(out) = shell.stdout.take() {
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line);
        }
        let pid = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("start {name} ({program}): the supervisor reported no pid"));
        Supervised {
            name: name.to_string(),
            log: log.to_path_buf(),
            pid,
            shell,
        }
    }

    /// Stops the process group (as dropping does) and starts `command` in its place, with
    /// its output in the same log: a crash and a restart, or a redeploy.
    pub fn restart(&mut self, command: &Command) {
        self.stop();
        let (name, log) = (self.name.clone(), self.log.clone());
        *self = Supervised::spawn(&name, command, &log, None);
    }

    fn stop(&mut self) {
        drop(self.shell.stdin.take());
        let _ = self.shell.wait();
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The log so far (NULs some tools write are dropped).
    pub fn log(&self) -> String {
        let bytes = std::fs::read(&self.log).unwrap_or_default();
        String::from_utf8_lossy(&bytes).replace('\0', "")
    }

    /// The last lines of the log.
    pub fn tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Whether the process still runs (an exited child stays a zombie until stopped).
    pub fn is_running(&self) -> bool {
        std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).is_ok_and(|stat| {
            // The state follows the parenthesised command name.
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next());
            !matches!(state, Some("Z" | "X") | None)
        })
    }

    /// Waits until `ready` holds; fails with the log if the process dies or time runs out.
    pub fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        mut ready: impl FnMut() -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if ready() {
                return Ok(());
            }
            if !self.is_running() {
                return Err(format!(
                    "{} exited before {what}; its log:\n{}",
                    self.name,
                    self.tail()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} was not {what} within {} s; its log:\n{}",
                    self.name,
                    timeout.as_secs(),
                    self.tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Dropping stops the process group and waits until it is gone (and cleaned up).
impl Drop for Supervised {
    fn drop(&mut self) {
        self.stop();
    }
}
