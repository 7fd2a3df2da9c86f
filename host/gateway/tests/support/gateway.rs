//! `voxgate serve` as a real process (SIP, control plane, admin API) on loopback, and a
//! small blocking HTTP client for its API.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running gateway; killed when dropped.
pub struct Gateway {
    child: Child,
    pub sip: SocketAddr,
    pub admin: SocketAddr,
    pub data: PathBuf,
    config: PathBuf,
    tenants: Vec<PathBuf>,
    env: Vec<(String, String)>,
}

impl Gateway {
    /// Starts `voxgate serve` with its store in `data`, provisioning `tenants`;
    /// `admin_toml` goes into the `[admin]` table.
    pub fn start(dir: &Path, data: &Path, tenants: &[PathBuf], admin_toml: &str) -> Gateway {
        let config = dir.join("gateway.toml");
        std::fs::write(
            &config,
            format!(
                "[sip]\nlisten = [\"udp:127.0.0.1:0\", \"tcp:127.0.0.1:0\"]\n\n[admin]\nlisten = \"127.0.0.1:0\"\n{admin_toml}\n"
            ),
        )
        .unwrap();
        Gateway::spawn(config, data.to_path_buf(), tenants.to_vec(), Vec::new())
    }

    /// Starts `voxgate serve` with the whole gateway file `toml` (written to
    /// `dir/gateway.toml`) and extra environment variables.
    pub fn start_with(
        dir: &Path,
        data: &Path,
        tenants: &[PathBuf],
        toml: &str,
        env: &[(&str, &str)],
    ) -> Gateway {
        std::fs::create_dir_all(dir).unwrap();
        let config = dir.join("gateway.toml");
        std::fs::write(&config, toml).unwrap();
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Gateway::spawn(config, data.to_path_buf(), tenants.to_vec(), env)
    }

    fn spawn(
        config: PathBuf,
        data: PathBuf,
        tenants: Vec<PathBuf>,
        env: Vec<(String, String)>,
    ) -> Gateway {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_voxgate"));
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        cmd.args(["serve", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(&data);
        for t in &tenants {
            cmd.arg("--tenant").arg(t);
        }
        let mut child = cmd
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start voxgate serve");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (mut sip_line, mut admin_line) = (String::new(), String::new());
        out.read_line(&mut sip_line).unwrap();
        out.read_line(&mut admin_line).unwrap();
        let sip = sip_line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("udp:"))
            .unwrap_or_else(|| panic!("no SIP address in {sip_line:?}"))
            .parse()
            .unwrap();
        let admin = admin_line
            .trim()
            .strip_prefix("admin listening on http://")
            .unwrap_or_else(|| panic!("no admin address in {admin_line:?}"))
            .parse()
            .unwrap();
        Gateway {
            child,
            sip,
            admin,
            data,
            config,
            tenants,
            env,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time the process used so far (user and system), from `/proc`.
    pub fn cpu_time(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces) in parentheses.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<u64> = rest
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
        let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
        // Linux reports them in USER_HZ, 100 a second on every architecture it runs on.
        Duration::from_millis(ticks * 10)
    }

    /// SIGKILL: no drain, no flush.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The same gateway again on the same store (new ports).
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        *self = Gateway::spawn(
            self.config.clone(),
            self.data.clone(),
            self.tenants.clone(),
            self.env.clone(),
        );
    }

    /// The first operator token, as the gateway wrote it.
    pub fn token(&self) -> String {
        std::fs::read_to_string(self.data.join("operator-token"))
            .expect("operator-token")
            .trim()
            .to_string()
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit, up to `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn http(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, &[u8])>,
    ) -> (u16, Vec<u8>) {
        http(self.admin, method, path, token, body)
    }

    pub fn get_json(&self, path: &str, token: &str) -> serde_json::Value {
        let (status, body) = self.http("GET", path, Some(token), None);
        assert_eq!(
            status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&body)
        );
        serde_json::from_slice(&body).unwrap()
    }

    /// Uploads the demo shop, made a new version by `label`, to tenant `demo`; its id.
    pub fn upload_demo_shop(&self, token: &str, label: &str) -> String {
        let wasm = std::fs::read(voxgate_runtime::testing::plugin_path("demo-shop")).unwrap();
        let (status, body) = self.http(
            "POST",
            "/v1/tenants/demo/plugins?name=demo-shop",
            Some(token),
            Some(("application/wasm", &new_version_of(&wasm, label))),
        );
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Activates version `id` for tenant `demo`.
    pub fn activate(&self, token: &str, id: &str) {
        let (status, body) = self.http(
            "POST",
            &format!("/v1/tenants/demo/plugins/{id}/activate"),
            Some(token),
            None,
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }

    /// Waits until `pred` holds for the tenant's calls (ended ones, newest first).
    pub fn wait_calls(
        &self,
        tenant: &str,
        token: &str,
        limit: Duration,
        pred: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Vec<serde_json::Value> {
        let until = Instant::now() + limit;
        loop {
            let calls = self.get_json(
                &format!("/v1/tenants/{tenant}/calls?status=ended&limit=1000"),
                token,
            )["calls"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if pred(&calls) {
                return calls;
            }
            assert!(
                Instant::now() < until,
                "calls never got there; last: {} calls",
                calls.len()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request with `Connection: close`; the status and the body.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &[u8])>,
) -> (u16, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the admin API");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let (ct, bytes) = body.unwrap_or(("", b""));
    if !ct.is_empty() {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", bytes.len()));
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(bytes).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&raw[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        raw = &raw[eol + 2 + size + 2..];
    }
}

/// The same component with a custom section appended: a new version (new bytes, new
/// id) that behaves exactly like the old one.
pub fn new_version_of(wasm: &[u8], label: &str) -> Vec<u8> {
    let name = b"voxgate-test";
    let mut payload = Vec::new();
    leb(&mut payload, name.len());
    payload.extend_from_slice(name);
    payload.extend_from_slice(label.as_bytes());
    let mut out = wasm.to_vec();
    out.push(0);
    leb(&mut out, payload.len());
    out.extend_from_slice(&payload);
    out
}

fn leb(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
