//! The demo ERP as its own process, the demo tenant pointed at it, and plain HTTP reads
//! of what the ERP holds (to check that an order exists exactly once).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The demo ERP on a free port; killed when dropped.
pub struct Erp {
    child: Child,
    pub addr: String,
}

impl Erp {
    pub fn start() -> Erp {
        let mut child = Command::new(env!("CARGO_BIN_EXE_voxgate"))
            .args(["demo-erp", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start demo ERP");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read address");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        Erp { child, addr }
    }

    /// GET `path` and parse the JSON body.
    pub fn get(&self, path: &str) -> serde_json::Value {
        let mut s = std::net::TcpStream::connect(&self.addr).expect("connect to the ERP");
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP response");
        assert!(head.starts_with("HTTP/1.1 200"), "GET {path}: {head}");
        // The demo ERP answers with Content-Length, never chunked.
        serde_json::from_str(body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    /// Orders of a contact, newest first.
    pub fn orders_of(&self, contact: &str) -> Vec<serde_json::Value> {
        self.get(&format!("/orders?contact_id={contact}"))
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Erp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The repository's demo tenant file, rewritten for `erp` and the built plugins, in
/// `dir`; `extra` is appended (more agents' settings, say).
pub fn demo_tenant_file(dir: &Path, erp: &str) -> PathBuf {
    demo_tenant_file_with(
        dir,
        erp,
        &voxgate_runtime::testing::plugin_path("demo-shop"),
    )
}

/// The demo tenant served by another build of the demo shop (another language's).
pub fn demo_tenant_file_with(dir: &Path, erp: &str, plugin: &Path) -> PathBuf {
    let repo = super::manifest_dir().join("../..");
    let text = std::fs::read_to_string(repo.join("demo/tenant.toml")).expect("demo/tenant.toml");
    let text = text.replace("127.0.0.1:8700", erp).replace(
        "default = \"demo_shop.wasm\"",
        &format!("default = {:?}", plugin.display().to_string()),
    );
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("tenant.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The demo tenant with the office agent on at any hour (a test must not depend on when
/// it runs), pointed at `erp`.
pub fn office_tenant_file(dir: &Path, erp: &str) -> PathBuf {
    let path = demo_tenant_file(dir, erp);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("default = \"after-hours\"", "default = \"office\"")
        .replace("holiday_agent = \"holiday\"\n", "");
    let text = text
        .split("[[schedule.holidays]]")
        .next()
        .unwrap()
        .to_string()
        + &text[text.find("[agents.office]").unwrap()..];
    std::fs::write(&path, text).unwrap();
    path
}

impl Erp {
    /// Stores `bytes` as the recording `reference` (`PUT /recordings/{reference}`).
    pub fn put_recording(&self, reference: &str, bytes: &[u8]) {
        let mut s = std::net::TcpStream::connect(&self.addr).expect("connect to the ERP");
        write!(
            s,
            "PUT /recordings/{reference} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\
             Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
            self.addr,
            bytes.len()
        )
        .unwrap();
        s.write_all(bytes).unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        assert!(raw.starts_with("HTTP/1.1 204"), "PUT recording: {raw}");
    }

    /// How many requests the ERP has answered.
    pub fn requests(&self) -> u64 {
        self.get("/stats")["requests"].as_u64().unwrap()
    }
}
