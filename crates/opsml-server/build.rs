//! Points the embedded web UI at its built files (`ui/dist`, made by `make ui`), or, before
//! they are built, at a page that says how to build them: the server compiles either way.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=ui/dist");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dist = manifest.join("ui").join("dist");
    let folder = if dist.join("index.html").is_file() {
        dist
    } else {
        let placeholder = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("ui");
        if let Err(e) = std::fs::create_dir_all(&placeholder)
            .and_then(|()| std::fs::write(placeholder.join("index.html"), PLACEHOLDER))
        {
            println!("cargo:warning=cannot write the placeholder UI page: {e}");
        }
        placeholder
    };
    println!("cargo:rustc-env=OPSML_UI_DIST={}", folder.display());
}

const PLACEHOLDER: &str = "<!doctype html><meta charset=\"utf-8\"><title>opsml</title>\
<p>This build of opsml has no web UI: build it with <code>make ui</code>, then rebuild opsml.";
