//! A fault-injecting HTTP proxy on loopback, in front of a real server (SeaweedFS): each
//! request passes, or gets the fault planned for it (an error status with an S3 error body,
//! a delay, a dropped connection). Every request travels on a connection of its own
//! (`Connection: close` both ways), so a fault applies to exactly the requests it was
//! planned for, whatever the client pools.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What happens to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forwarded as it is.
    Pass,
    /// Answered by the proxy with this status and an S3 `<Error>` of this code; the
    /// server never sees the request.
    Status(u16, &'static str),
    /// Forwarded after this long.
    Delay(Duration),
    /// The connection is closed without an answer.
    Drop,
}

pub struct FaultProxy {
    pub port: u16,
    /// Faults for the next requests, in order; once empty, requests pass.
    plan: Arc<Mutex<VecDeque<Fault>>>,
    /// Every request seen, as `METHOD path?query`.
    seen: Arc<Mutex<Vec<String>>>,
}

impl FaultProxy {
    /// A proxy to `127.0.0.1:upstream`, serving until the process ends.
    pub fn start(upstream: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let port = listener.local_addr().expect("its address").port();
        let plan = Arc::new(Mutex::new(VecDeque::new()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (thread_plan, thread_seen) = (plan.clone(), seen.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (plan, seen) = (thread_plan.clone(), thread_seen.clone());
                std::thread::spawn(move || {
                    let _ = serve(client, upstream, &plan, &seen);
                });
            }
        });
        FaultProxy { port, plan, seen }
    }

    /// `faults` for the next requests, in order (after any planned before).
    pub fn plan(&self, faults: impl IntoIterator<Item = Fault>) {
        self.plan.lock().unwrap().extend(faults);
    }

    /// Forgets what was planned and not used.
    pub fn clear(&self) {
        self.plan.lock().unwrap().clear();
    }

    /// The requests seen so far (`METHOD path?query`), and forgets them.
    pub fn take_seen(&self) -> Vec<String> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn serve(
    client: TcpStream,
    upstream: u16,
    plan: &Mutex<VecDeque<Fault>>,
    seen: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut content_length = 0usize;
    let mut request_line = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if request_line.is_empty() {
            request_line = line.trim_end().to_string();
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap_or(0);
            }
            if name.eq_ignore_ascii_case("connection") {
                continue;
            }
        }
        head.extend_from_slice(line.as_bytes());
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;
    let target = request_line
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    seen.lock().unwrap().push(target);
    let fault = plan.lock().unwrap().pop_front().unwrap_or(Fault::Pass);
    let mut client = client;
    match fault {
        Fault::Status(status, code) => {
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                 <Message>injected by the fault proxy</Message></Error>"
            );
            write!(
                client,
                "HTTP/1.1 {status} Injected\r\nContent-Type: application/xml\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
            return client.shutdown(Shutdown::Both);
        }
        Fault::Drop => return client.shutdown(Shutdown::Both),
        Fault::Delay(delay) => std::thread::sleep(delay),
        Fault::Pass => {}
    }
    let mut server = TcpStream::connect(("127.0.0.1", upstream))?;
    // The request line is the head's first line; the rest are headers.
    server.write_all(&head)?;
    server.write_all(b"Connection: close\r\n\r\n")?;
    server.write_all(&body)?;
    std::io::copy(&mut server, &mut client)?;
    client.shutdown(Shutdown::Both)
}
