//! Compiles kernels/kernels.cu to PTX with nvcc; main.rs embeds the PTX.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let source = "kernels/kernels.cu";
    println!("cargo:rerun-if-changed={source}");
    println!("cargo:rerun-if-env-changed=NVCC");
    let nvcc = env::var("NVCC").unwrap_or_else(|_| "nvcc".to_owned());
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("kernels.ptx");
    // compute_75: PTX the driver JIT-compiles for any GPU from Turing on (the H100 included).
    let status = Command::new(&nvcc)
        .args(["-ptx", "-arch=compute_75", "-lineinfo", "-o"])
        .arg(&out)
        .arg(source)
        .status()
        .unwrap_or_else(|error| panic!("cannot run `{nvcc}` (set NVCC to its path): {error}"));
    assert!(status.success(), "`{nvcc}` failed to compile {source}");
}
