//! Compresses the web client at build time and rebuilds the crate when a
//! file under `web/` is added, changed or removed (`src/web.rs` embeds that
//! folder, and the embedding macro alone notices changed files but not new
//! ones).
//!
//! Every text file of `web/` is written to `OUT_DIR` gzipped (level 9) and
//! brotli-compressed (quality 11), and `OUT_DIR/web_compressed.rs` lists
//! them as `(path, gzip bytes, brotli bytes)` for `src/web.rs` to serve by
//! `Accept-Encoding`. Files that would not shrink (images) are left out.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Extensions of the files worth compressing.
const TEXT: &[&str] = &["js", "css", "html", "svg", "json", "webmanifest", "txt"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=web");
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut files = Vec::new();
    collect(Path::new("web"), &mut files)?;
    files.sort();
    let mut table = String::from(
        "/// `(path under web/, gzip, brotli)` of every compressed client file.\n\
         pub static COMPRESSED: &[(&str, &[u8], &[u8])] = &[\n",
    );
    for file in files {
        let name = file
            .strip_prefix("web")?
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        if !TEXT.contains(&ext) {
            continue;
        }
        let data = std::fs::read(&file)?;
        let gzip = gzip(&data)?;
        let brotli = brotli(&data)?;
        if gzip.len() >= data.len() {
            continue;
        }
        let flat = name.replace('/', "__");
        let gz_path = out.join(format!("web-{flat}.gz"));
        let br_path = out.join(format!("web-{flat}.br"));
        std::fs::write(&gz_path, gzip)?;
        std::fs::write(&br_path, brotli)?;
        table.push_str(&format!(
            "    ({name:?}, include_bytes!({:?}), include_bytes!({:?})),\n",
            gz_path.display().to_string(),
            br_path.display().to_string()
        ));
    }
    table.push_str("];\n");
    std::fs::write(out.join("web_compressed.rs"), table)?;
    Ok(())
}

/// Every file under `dir`, recursively.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data)?;
    encoder.finish()
}

fn brotli(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut encoder = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        encoder.write_all(data)?;
    }
    Ok(out)
}
