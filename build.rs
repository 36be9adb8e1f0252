//! The release binary's code laid out in the order a session's start runs it
//! (`build/symbol-order.txt`, made by `scripts/order-symbols.sh`): the kernel maps code in 64 KiB
//! windows around each page a process touches, so code run together and placed together costs a
//! few windows instead of a hundred scattered ones (idle RSS 10.4 MB → 5.6 MB). Only for the
//! release profile on x86_64 Linux with a rustc that links with LLD there (1.90 and later); a
//! name the file has and the binary does not (code changed since the file was made) is passed
//! over.

fn main() {
    // Read when the script runs, not when it is compiled: checkouts sharing a target directory
    // share this script's binary, which then pointed every build at the first one's file.
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let order = std::path::Path::new(&dir).join("build/symbol-order.txt");
    println!("cargo:rerun-if-changed=build/symbol-order.txt");
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let target = std::env::var("TARGET").unwrap_or_default();
    if release && target == "x86_64-unknown-linux-gnu" && order.exists() && links_with_lld() {
        // A copy in this script's own output: checkouts sharing a target directory share that
        // output too, and a build whose script did not run again must still find a file (at
        // worst another checkout's order, which costs memory, never the build).
        let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap_or_default())
            .join("symbol-order.txt");
        let order = match std::fs::copy(&order, &out) {
            Ok(_) => out,
            Err(_) => order,
        };
        println!(
            "cargo:rustc-link-arg-bin=mcpscope=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bin=mcpscope=-Wl,--no-warn-symbol-ordering");
    }
}

/// Whether rustc links x86_64 Linux binaries with its own LLD (the default from 1.90): GNU ld
/// does not know the ordering option.
fn links_with_lld() -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = std::process::Command::new(rustc).arg("-V").output() else {
        return false;
    };
    let version = String::from_utf8_lossy(&out.stdout);
    // "rustc 1.95.0 (…)"
    let minor = version
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.split('.').nth(1))
        .and_then(|m| m.parse::<u32>().ok());
    minor.is_some_and(|m| m >= 90)
}
