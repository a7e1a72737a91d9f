//! What the tests that build C, C++ and C# programs share: where the
//! repository and libnim.so are, and running a compiler.

use std::path::PathBuf;

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The directory holding libnim.so (target/<profile>), from this test's path.
/// Building the tests does not always produce the cdylib, so it is built here
/// (a no-op when it is up to date).
pub fn lib_dir() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().unwrap();
            let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
            let mut cmd = std::process::Command::new(env!("CARGO"));
            cmd.current_dir(repo())
                .args([
                    "build",
                    "--quiet",
                    "-p",
                    "magpie-client-ffi",
                    "--lib",
                    "--target-dir",
                ])
                .arg(dir.parent().unwrap());
            if dir.ends_with("release") {
                cmd.arg("--release");
            }
            let status = cmd.status().expect("cargo runs");
            assert!(status.success(), "building libnim failed");
            assert!(
                dir.join("libnim.so").exists(),
                "libnim.so not found in {}",
                dir.display()
            );
            dir
        })
        .clone()
}

/// Runs a compiler; its output is the failure message.
pub fn compile(cmd: &mut std::process::Command) {
    let out = cmd.output().expect("compiler runs");
    assert!(
        out.status.success(),
        "compile failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
