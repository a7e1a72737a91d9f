//! The system tools some tests drive (real compilers, real proxies), and what
//! a test does when one is missing.
//!
//! `scripts/test` installs them all. `scripts/test --no-install` installs
//! nothing and sets `MAGPIE_SKIP_MISSING_TOOLS=1`: a test whose tools are
//! missing then prints why and which package provides them, and passes
//! without running. Without that variable a missing tool fails the test
//! with the same message, so CI can never skip one silently.

use std::path::Path;

/// A program or file a test needs, and the Debian package providing it.
#[derive(Clone, Copy, Debug)]
pub struct Tool {
    /// A program name (looked up in the usual bin directories) or an absolute path.
    pub what: &'static str,
    /// The Debian package.
    pub package: &'static str,
}

/// The C compiler.
pub const GCC: Tool = Tool {
    what: "gcc",
    package: "gcc",
};
/// The C++ compiler.
pub const GXX: Tool = Tool {
    what: "g++",
    package: "g++",
};
/// cJSON's header, for the C samples.
pub const CJSON: Tool = Tool {
    what: "/usr/include/cjson/cJSON.h",
    package: "libcjson-dev",
};
/// nlohmann/json's header, for the C++ samples.
pub const NLOHMANN: Tool = Tool {
    what: "/usr/include/nlohmann/json.hpp",
    package: "nlohmann-json3-dev",
};
/// Mono's C# compiler.
pub const MCS: Tool = Tool {
    what: "mcs",
    package: "mono-mcs",
};
/// Mono's runtime.
pub const MONO: Tool = Tool {
    what: "mono",
    package: "mono-runtime",
};
/// valgrind.
pub const VALGRIND: Tool = Tool {
    what: "valgrind",
    package: "valgrind",
};
/// Python 3 (independent implementations of NIM's signatures).
pub const PYTHON3: Tool = Tool {
    what: "python3",
    package: "python3",
};
/// microsocks, a SOCKS5 proxy.
pub const MICROSOCKS: Tool = Tool {
    what: "microsocks",
    package: "microsocks",
};
/// Dante, a SOCKS4/4a/5 proxy.
pub const DANTE: Tool = Tool {
    what: "danted",
    package: "dante-server",
};
/// OpenSSH's server, for `ssh -D` as a SOCKS proxy.
pub const SSHD: Tool = Tool {
    what: "sshd",
    package: "openssh-server",
};
/// OpenSSH's client.
pub const SSH: Tool = Tool {
    what: "ssh",
    package: "openssh-client",
};

/// Chromium, the browser of the console's end-to-end test.
pub const CHROMIUM: Tool = Tool {
    what: "chromium",
    package: "chromium",
};
/// ChromeDriver, the WebDriver server for Chromium.
pub const CHROMEDRIVER: Tool = Tool {
    what: "chromedriver",
    package: "chromium-driver",
};

/// Where a program is: PATH first, then the sbin directories a non-root
/// PATH may lack.
pub fn find(program: &str) -> Option<String> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"])
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file());
    found.map(|p| p.to_string_lossy().into_owned())
}

impl Tool {
    /// Where it is, when installed.
    pub fn path(&self) -> Option<String> {
        if self.what.starts_with('/') {
            return Path::new(self.what).exists().then(|| self.what.to_owned());
        }
        find(self.what)
    }
}

/// True when every tool is installed. Otherwise: with
/// `MAGPIE_SKIP_MISSING_TOOLS=1`, prints that `test` is skipped and why and
/// returns false; without it, panics with the same words.
pub fn available(test: &str, tools: &[Tool]) -> bool {
    let missing: Vec<&Tool> = tools.iter().filter(|t| t.path().is_none()).collect();
    if missing.is_empty() {
        return true;
    }
    let names = missing
        .iter()
        .map(|t| format!("{} (Debian package {})", t.what, t.package))
        .collect::<Vec<_>>()
        .join(", ");
    if std::env::var("MAGPIE_SKIP_MISSING_TOOLS").is_ok_and(|v| v == "1") {
        let line = format!("SKIPPED {test}: needs {names}");
        eprintln!("{line}");
        // The runners hide a passing test's output: scripts/test prints this
        // report at the end.
        if let Some(report) = std::env::var_os("MAGPIE_SKIP_REPORT") {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(report)
            {
                let _ = writeln!(f, "{line}");
            }
        }
        false
    } else {
        panic!("{test} needs {names}: run scripts/test, which installs it");
    }
}
