//! A small HTTP/1.1 fault-injection proxy for tests: it sits on
//! `127.0.0.1:0` in front of a fake platform and, per request, passes it
//! through or breaks it in a chosen way. One request per connection (the
//! proxy asks the upstream for `Connection: close` and closes after each
//! answer), so every fault hits exactly the request it was aimed at.
//!
//! ```ignore
//! let proxy = FaultProxy::start(fake.addr()).await;
//! proxy.rule("POST", "/vote", Fault::DropResponse, 1); // applied, answer lost
//! proxy.rule("GET", "/questions?", Fault::Status(502), 3);
//! proxy.set_down(true);                                 // every connection dropped
//! // point the client at proxy.base_url()
//! ```
//!
//! Faults ([`Fault`]): refuse before the upstream sees the request, a canned
//! status (500/502/429 with `Retry-After`), a delay, the answer dropped after
//! the upstream applied the request (cut mid-body), a truncated or corrupted
//! JSON body (valid HTTP framing, broken JSON), an enormous or endless body,
//! an endless SSE event, and a stream cut after a number of body bytes.
//! Counters: requests seen, forwarded and faulted by `"METHOD /path"`, and
//! the bytes written to clients by the endless answers (to prove a client
//! stopped reading).
//!
//! Every loop here is bounded: endless bodies stop after [`ENDLESS_CAP`]
//! bytes or [`ENDLESS_TIME`], whichever comes first, and everything stops
//! when the proxy is dropped.

use super::{Serving, in_background};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An endless answer stops after this many bytes at the latest.
pub const ENDLESS_CAP: u64 = 512 * 1024 * 1024;
/// ... or after this long.
pub const ENDLESS_TIME: Duration = Duration::from_secs(60);
/// Largest request head the proxy reads.
const MAX_HEAD: usize = 64 * 1024;

/// What to do to one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Close the connection before the upstream sees the request.
    Refuse,
    /// Answer this status locally with a documented-looking error body.
    Status(u16),
    /// 429 with `Retry-After: secs`, locally.
    RateLimited { retry_after_s: u64 },
    /// Wait, then pass through.
    Delay(Duration),
    /// Pass through; the upstream applies the request, then the answer is
    /// cut in the middle of its body (or before it, when it has none).
    DropResponse,
    /// Pass through; the body is cut in half but its `Content-Length` fixed,
    /// so the HTTP is valid and the JSON is not.
    TruncateJson,
    /// Pass through; the body keeps its length but is no longer JSON.
    CorruptJson,
    /// Answer 200 `application/json` locally with a body of this many bytes
    /// (a JSON string, so it is valid JSON as long as it is read whole).
    Huge(usize),
    /// Answer 200 `application/json` locally with a body that never ends.
    Endless,
    /// Answer 200 `text/event-stream` locally with one event whose `data:`
    /// line never ends.
    EndlessSseEvent,
    /// Pass through a (streaming) answer, but close the connection after
    /// this many body bytes.
    CutAfter(usize),
    /// Pass through untouched (to let a request by before a later rule).
    Normal,
}

#[derive(Debug, Clone)]
struct Rule {
    method: String,
    needle: String,
    fault: Fault,
    times: u32,
}

/// Counts by `"METHOD /path?query"` (the path as the client sent it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProxyCounters {
    pub seen: BTreeMap<String, u64>,
    pub forwarded: BTreeMap<String, u64>,
    pub faulted: BTreeMap<String, u64>,
    pub connections: u64,
    /// Connections dropped while down.
    pub refused_down: u64,
}

impl ProxyCounters {
    pub fn faulted_total(&self) -> u64 {
        self.faulted.values().sum()
    }
}

struct Shared {
    upstream: SocketAddr,
    rules: Mutex<Vec<Rule>>,
    counters: Mutex<ProxyCounters>,
    down: AtomicBool,
    /// Bytes written by endless/huge answers, in total.
    endless_bytes: AtomicU64,
    /// Endless answers whose client went away (stopped reading).
    endless_abandoned: AtomicU64,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    log: Mutex<Vec<Seen>>,
    started: std::time::Instant,
}

/// One request as the proxy saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// Since the proxy started.
    pub at: Duration,
    /// `"METHOD /path?query"` without the `/v1` prefix.
    pub key: String,
    pub fault: Option<Fault>,
}

/// A running proxy; dropping it stops it and every connection it holds.
pub struct FaultProxy {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _serving: Serving,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        for t in self
            .shared
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            t.abort();
        }
    }
}

impl FaultProxy {
    /// Binds `127.0.0.1:0` in the current runtime, forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        FaultProxy::serve(listener, upstream)
    }

    fn serve(listener: TcpListener, upstream: SocketAddr) -> FaultProxy {
        let addr = listener.local_addr().expect("proxy addr");
        let shared = Arc::new(Shared {
            upstream,
            rules: Mutex::new(Vec::new()),
            counters: Mutex::new(ProxyCounters::default()),
            down: AtomicBool::new(false),
            endless_bytes: AtomicU64::new(0),
            endless_abandoned: AtomicU64::new(0),
            tasks: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            started: std::time::Instant::now(),
        });
        let sh = shared.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                let sh2 = sh.clone();
                let task = tokio::spawn(async move {
                    let _ = handle(sh2, conn).await;
                });
                let mut tasks = sh.tasks.lock().unwrap_or_else(|e| e.into_inner());
                tasks.retain(|t| !t.is_finished());
                tasks.push(task);
            }
        });
        FaultProxy {
            shared,
            addr,
            _serving: Serving::Here(accept),
        }
    }

    /// Starts the proxy on a thread with its own runtime, for tests that
    /// block their thread (child processes). Call outside any runtime.
    pub fn start_background(upstream: SocketAddr) -> FaultProxy {
        in_background(
            "fault-proxy",
            move || FaultProxy::start(upstream),
            |proxy: &FaultProxy, serving| FaultProxy {
                shared: proxy.shared.clone(),
                addr: proxy.addr,
                _serving: serving,
            },
        )
    }

    /// `http://127.0.0.1:PORT/v1` (the PostoBox fake's prefix).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The next `times` requests whose method is `method` (`"*"`: any) and
    /// whose `path?query` contains `needle` get `fault`. Rules are tried in
    /// the order they were added.
    pub fn rule(&self, method: &str, needle: &str, fault: Fault, times: u32) {
        self.shared.rules.lock().unwrap().push(Rule {
            method: method.to_string(),
            needle: needle.to_string(),
            fault,
            times,
        });
    }

    /// Rules with uses left.
    pub fn rules_left(&self) -> u32 {
        self.shared
            .rules
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.times)
            .sum()
    }

    /// Down: every new connection is closed at once, before a byte is read
    /// (the platform is unreachable). Open connections are not touched.
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    /// Closes every connection the proxy holds open now (streams included).
    pub fn cut_all(&self) {
        for t in self
            .shared
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            t.abort();
        }
    }

    pub fn counters(&self) -> ProxyCounters {
        self.shared.counters.lock().unwrap().clone()
    }

    /// Every request seen, in order.
    pub fn log(&self) -> Vec<Seen> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Bytes the huge/endless answers wrote so far.
    pub fn endless_bytes(&self) -> u64 {
        self.shared.endless_bytes.load(Ordering::SeqCst)
    }

    /// Endless answers that ended because the client stopped reading.
    pub fn endless_abandoned(&self) -> u64 {
        self.shared.endless_abandoned.load(Ordering::SeqCst)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads until the end of an HTTP head; returns (head, rest already read).
async fn read_head(conn: &mut TcpStream) -> std::io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok(Some((buf, rest)));
        }
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn header_value(head: &str, name: &str) -> Option<String> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// The request head with `Connection: close` (one request per connection).
fn close_head(head: &str) -> String {
    let mut out = String::new();
    for (i, line) in head.split("\r\n").enumerate() {
        if line.is_empty() {
            continue;
        }
        if i > 0
            && let Some((k, _)) = line.split_once(':')
            && (k.trim().eq_ignore_ascii_case("connection")
                || k.trim().eq_ignore_ascii_case("keep-alive"))
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

fn take_rule(sh: &Shared, method: &str, target: &str) -> Option<Fault> {
    let mut rules = sh.rules.lock().unwrap();
    let i = rules.iter().position(|r| {
        r.times > 0 && (r.method == "*" || r.method == method) && target.contains(&r.needle)
    })?;
    rules[i].times -= 1;
    let fault = rules[i].fault.clone();
    if rules[i].times == 0 {
        rules.remove(i);
    }
    Some(fault)
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    *map.entry(key.to_string()).or_default() += 1;
}

async fn local_answer(conn: &mut TcpStream, status: u16, extra: &str, body: &str) {
    let reason = match status {
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    };
    let resp = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(resp.as_bytes()).await;
    let _ = conn.shutdown().await;
}

async fn handle(sh: Arc<Shared>, mut conn: TcpStream) -> std::io::Result<()> {
    sh.counters.lock().unwrap().connections += 1;
    if sh.down.load(Ordering::SeqCst) {
        sh.counters.lock().unwrap().refused_down += 1;
        // Reset rather than a clean close: like a platform that is gone.
        let _ = conn.set_zero_linger();
        return Ok(());
    }
    let Some((head, mut body)) = read_head(&mut conn).await? else {
        return Ok(());
    };
    let head = String::from_utf8_lossy(&head).to_string();
    let mut first = head.lines().next().unwrap_or("").split_whitespace();
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("").to_string();
    let len: usize = header_value(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut chunk = [0u8; 8192];
    while body.len() < len {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let key = format!("{method} {}", target.trim_start_matches("/v1"));
    let fault = take_rule(&sh, &method, &target);
    {
        let mut c = sh.counters.lock().unwrap();
        bump(&mut c.seen, &key);
        if fault.is_some() {
            bump(&mut c.faulted, &key);
        }
    }
    sh.log.lock().unwrap().push(Seen {
        at: sh.started.elapsed(),
        key: key.clone(),
        fault: fault.clone(),
    });
    match fault {
        None | Some(Fault::Normal) => forward(&sh, conn, &head, &body, &key, Pass::Whole).await,
        Some(Fault::Refuse) => {
            let _ = conn.set_zero_linger();
            Ok(())
        }
        Some(Fault::Status(code)) => {
            let body = format!(
                r#"{{"error":{{"message":"injected {code}","status":{code},"code":"INJECTED"}}}}"#
            );
            local_answer(&mut conn, code, "", &body).await;
            Ok(())
        }
        Some(Fault::RateLimited { retry_after_s }) => {
            let body = r#"{"error":{"message":"Rate limit exceeded","status":429,"code":"RATE_LIMIT_EXCEEDED"}}"#;
            let extra = format!("Retry-After: {retry_after_s}\r\n");
            local_answer(&mut conn, 429, &extra, body).await;
            Ok(())
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            forward(&sh, conn, &head, &body, &key, Pass::Whole).await
        }
        Some(Fault::DropResponse) => forward(&sh, conn, &head, &body, &key, Pass::Drop).await,
        Some(Fault::TruncateJson) => forward(&sh, conn, &head, &body, &key, Pass::Truncate).await,
        Some(Fault::CorruptJson) => forward(&sh, conn, &head, &body, &key, Pass::Corrupt).await,
        Some(Fault::CutAfter(n)) => forward(&sh, conn, &head, &body, &key, Pass::CutAfter(n)).await,
        Some(Fault::Huge(n)) => {
            huge(&sh, conn, Some(n), "application/json").await;
            Ok(())
        }
        Some(Fault::Endless) => {
            huge(&sh, conn, None, "application/json").await;
            Ok(())
        }
        Some(Fault::EndlessSseEvent) => {
            huge(&sh, conn, None, "text/event-stream").await;
            Ok(())
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Pass {
    Whole,
    Drop,
    Truncate,
    Corrupt,
    CutAfter(usize),
}

async fn forward(
    sh: &Shared,
    mut conn: TcpStream,
    head: &str,
    body: &[u8],
    key: &str,
    pass: Pass,
) -> std::io::Result<()> {
    let Ok(mut up) = TcpStream::connect(sh.upstream).await else {
        let _ = conn.set_zero_linger();
        return Ok(());
    };
    up.write_all(close_head(head).as_bytes()).await?;
    up.write_all(body).await?;
    bump(&mut sh.counters.lock().unwrap().forwarded, key);
    match pass {
        Pass::Whole => {
            // Both ways until either side closes (streams included).
            let (mut ur, mut uw) = up.into_split();
            let (mut cr, mut cw) = conn.into_split();
            tokio::select! {
                _ = tokio::io::copy(&mut ur, &mut cw) => {}
                _ = tokio::io::copy(&mut cr, &mut uw) => {}
            }
            let _ = cw.shutdown().await;
            Ok(())
        }
        Pass::CutAfter(n) => {
            let Some((rhead, mut rbody)) = read_head(&mut up).await? else {
                return Ok(());
            };
            conn.write_all(&rhead).await?;
            let mut buf = vec![0u8; 8192];
            loop {
                if rbody.len() >= n {
                    conn.write_all(&rbody[..n]).await?;
                    // A clean close in the middle of the body: the client
                    // reads the partial bytes, then the end of the stream.
                    let _ = conn.shutdown().await;
                    return Ok(());
                }
                let read = tokio::time::timeout(ENDLESS_TIME, up.read(&mut buf)).await;
                match read {
                    Ok(Ok(0)) | Ok(Err(_)) | Err(_) => {
                        let _ = conn.write_all(&rbody).await;
                        return Ok(());
                    }
                    Ok(Ok(k)) => rbody.extend_from_slice(&buf[..k]),
                }
            }
        }
        Pass::Drop | Pass::Truncate | Pass::Corrupt => {
            // The whole answer first (these are request/response calls).
            let mut all = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(30), up.read_to_end(&mut all)).await;
            let split = find(&all, b"\r\n\r\n").map_or(all.len(), |i| i + 4);
            let (rhead, rbody) = all.split_at(split);
            let rhead = String::from_utf8_lossy(rhead).to_string();
            match pass {
                Pass::Drop => {
                    if !rbody.is_empty() {
                        conn.write_all(rhead.as_bytes()).await?;
                        conn.write_all(&rbody[..rbody.len() / 2]).await?;
                        let _ = conn.shutdown().await;
                    } else {
                        let _ = conn.set_zero_linger();
                    }
                }
                Pass::Truncate => {
                    let cut = &rbody[..rbody.len() / 2];
                    let fixed = set_length(&rhead, cut.len());
                    conn.write_all(fixed.as_bytes()).await?;
                    conn.write_all(cut).await?;
                    let _ = conn.shutdown().await;
                }
                _ => {
                    let mut bad = rbody.to_vec();
                    if let Some(b) = bad.first_mut() {
                        *b = b'<';
                    }
                    let mid = bad.len() / 2;
                    if let Some(b) = bad.get_mut(mid) {
                        *b = 0xff;
                    }
                    conn.write_all(rhead.as_bytes()).await?;
                    conn.write_all(&bad).await?;
                    let _ = conn.shutdown().await;
                }
            }
            Ok(())
        }
    }
}

/// The response head with `Content-Length: len` (and no chunking).
fn set_length(head: &str, len: usize) -> String {
    let mut out = String::new();
    for (i, line) in head.split("\r\n").enumerate() {
        if line.is_empty() {
            continue;
        }
        if i > 0
            && let Some((k, _)) = line.split_once(':')
            && (k.trim().eq_ignore_ascii_case("content-length")
                || k.trim().eq_ignore_ascii_case("transfer-encoding"))
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {len}\r\n\r\n"));
    out
}

/// A huge (`Some(n)` bytes) or endless (`None`) body, written as fast as the
/// client reads it; bounded by [`ENDLESS_CAP`] and [`ENDLESS_TIME`].
async fn huge(sh: &Shared, mut conn: TcpStream, len: Option<usize>, content_type: &str) {
    let sse = content_type == "text/event-stream";
    let framing = match len {
        Some(n) => format!("Content-Length: {n}\r\n"),
        None => "Transfer-Encoding: chunked\r\n".to_string(),
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n{framing}Connection: close\r\n\r\n"
    );
    if conn.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let started = tokio::time::Instant::now();
    let block = vec![b'x'; 64 * 1024];
    let mut written: u64 = 0;
    let total = len.map(|n| n as u64).unwrap_or(ENDLESS_CAP);
    // The prefix makes the body valid JSON (a string) or an SSE data line.
    let (prefix, suffix): (&[u8], &[u8]) = if sse {
        (b"data: ", b"")
    } else {
        (b"\"", b"\"")
    };
    let mut pieces: Vec<Vec<u8>> = vec![prefix.to_vec()];
    loop {
        if written >= total || started.elapsed() > ENDLESS_TIME {
            break;
        }
        let piece: Vec<u8> = match pieces.pop() {
            Some(p) => p,
            None => {
                let left = total - written;
                let n = if len.is_some() {
                    (left.saturating_sub(suffix.len() as u64)).min(block.len() as u64) as usize
                } else {
                    block.len()
                };
                if n == 0 {
                    suffix.to_vec()
                } else {
                    block[..n].to_vec()
                }
            }
        };
        let write = if len.is_some() {
            piece.clone()
        } else {
            [
                format!("{:x}\r\n", piece.len()).into_bytes(),
                piece.clone(),
                b"\r\n".to_vec(),
            ]
            .concat()
        };
        let left = ENDLESS_TIME.saturating_sub(started.elapsed());
        let res = tokio::time::timeout(left, conn.write_all(&write)).await;
        if !matches!(res, Ok(Ok(()))) {
            sh.endless_abandoned.fetch_add(1, Ordering::SeqCst);
            return;
        }
        written += piece.len() as u64;
        sh.endless_bytes
            .fetch_add(piece.len() as u64, Ordering::SeqCst);
    }
    if len.is_none() {
        let _ = conn.write_all(b"0\r\n\r\n").await;
    }
    let _ = conn.shutdown().await;
}
