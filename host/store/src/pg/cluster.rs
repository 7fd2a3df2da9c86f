//! A throwaway PostgreSQL server from the machine's own binaries (Debian's
//! `postgresql` package), for tests and local trials of a several-node set-up.
//!
//! It listens only on a Unix socket in its own folder, so any number can run side by
//! side without ports to choose. PostgreSQL refuses to run as root; as root the server
//! runs as the `postgres` user the package created. A watchdog shell stops the server
//! and deletes its folder once the process that started it is gone, however it ended (a
//! test binary never drops its statics).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// A PostgreSQL server of our own, stopped and deleted on drop.
#[derive(Debug)]
pub struct LocalCluster {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
}

/// The user the cluster's databases are made for (trusted on the socket).
const USER: &str = "voxgate";

impl LocalCluster {
    /// Creates and starts a server in a new folder under the temporary directory.
    pub fn start() -> Result<LocalCluster, String> {
        static N: AtomicU32 = AtomicU32::new(0);
        let bin = binaries()?;
        let dir = std::env::temp_dir().join(format!(
            "vxpg-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let as_postgres = is_root();
        let cluster = LocalCluster {
            dir,
            bin,
            as_postgres,
        };
        if as_postgres {
            cluster.run(
                Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(&cluster.dir),
            )?;
        }
        let data = cluster.data();
        cluster.run(cluster.tool("initdb").arg("-D").arg(&data).args([
            "-U",
            USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        ]))?;
        // fsync off: a test's server dies with the test, so durability across a power
        // cut buys nothing and costs seconds.
        let options = format!(
            "-k {} -c listen_addresses='' -c fsync=off -c full_page_writes=off \
             -c max_connections=200",
            cluster.dir.display()
        );
        cluster.run(
            cluster
                .tool("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(cluster.dir.join("server.log"))
                .args(["-o", &options, "-w", "-t", "60", "start"]),
        )?;
        cluster.watch()?;
        Ok(cluster)
    }

    /// The connection string of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("host={} user={USER} dbname={name}", self.dir.display())
    }

    /// Creates an empty database and returns its connection string.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        let mut client = ::postgres::Client::connect(&self.url("postgres"), ::postgres::NoTls)
            .map_err(|e| format!("cannot connect to the test server: {e}"))?;
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "database name {name:?}: letters, digits and _ only"
            ));
        }
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(|e| format!("CREATE DATABASE {name}: {e}"))?;
        Ok(self.url(name))
    }

    /// The server's log so far (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&self, command: &mut Command) -> Result<(), String> {
        let out = command
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{command:?}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{command:?} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Starts the shell that stops the server once this process is gone. Its loop ends
    /// with the process; it never outlives the server by more than a second.
    fn watch(&self) -> Result<(), String> {
        let stop = format!(
            "{} '{}' -D '{}' -m immediate stop",
            if self.as_postgres {
                "runuser -u postgres --"
            } else {
                ""
            },
            self.bin.join("pg_ctl").display(),
            self.data().display()
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; \
             rm -rf '{dir}'",
            pid = std::process::id(),
            dir = self.dir.display()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(|_| ())
            .map_err(|e| format!("cannot start the server's watchdog: {e}"))
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        let _ = self.run(self.tool("pg_ctl").arg("-D").arg(self.data()).args([
            "-m",
            "immediate",
            "stop",
        ]));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest PostgreSQL's binaries Debian installed.
fn binaries() -> Result<PathBuf, String> {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .map_err(|e| {
            format!(
                "no PostgreSQL server here ({}: {e}); scripts/setup installs it",
                root.display()
            )
        })?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| format!("no PostgreSQL server binaries under {}", root.display()))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
