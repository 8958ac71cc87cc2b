//! `confab-mediabench`: upload throughput and image processing time for
//! large files. Makes a photo-like JPEG of about `--photo-mb` MB (a smooth
//! scene with sensor-like noise, so it compresses like a camera picture),
//! times the server's own image pipeline on it in this process (decode,
//! orientation, re-encode without metadata, thumbnail, blurhash), then
//! uploads it, and a file of the same size that is not an image (stored
//! as a stream), through the real REST API of a running Confab.
//!
//! The server must trust the bench's tokens, as for `confab-bench`:
//!   confab --auth-jwt-algorithm HS256 --auth-jwt-key bench-secret --auth-jwt-issuer confab-bench \
//!          --media-quota-bytes 100000000000 --max-connections-per-ip 0 --signups-per-ip 0
//!   confab-mediabench --url http://127.0.0.1:8080

use clap::Parser;
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(
    name = "confab-mediabench",
    about = "Upload throughput and thumbnail time for large files"
)]
struct Args {
    /// HTTP base URL of the running server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// HS256 key the server is configured to trust.
    #[arg(long, default_value = "bench-secret")]
    jwt_secret: String,
    /// Issuer the server is configured to trust.
    #[arg(long, default_value = "confab-bench")]
    issuer: String,
    /// Size of the test photo and of the test file, in MB (about).
    #[arg(long, default_value_t = 10)]
    photo_mb: usize,
    /// Uploads of each kind.
    #[arg(long, default_value_t = 20)]
    uploads: usize,
    /// Uploads in flight at once.
    #[arg(long, default_value_t = 2)]
    concurrency: usize,
    /// The server's `media_max_pixels` (for the in-process pipeline).
    #[arg(long, default_value_t = 50_000_000)]
    max_pixels: u64,
}

/// A photo-like JPEG of about `mb` MB: 4:3, smooth colour fields with
/// per-pixel noise (what makes camera pictures large), quality 95.
fn photo(mb: usize) -> Result<Vec<u8>, String> {
    // About 0.85 bytes per pixel at this noise and quality.
    let pixels = (mb * 1_000_000) as f64 / 0.85;
    let width = (pixels * 4.0 / 3.0).sqrt() as u32;
    let height = width * 3 / 4;
    let mut seed: u32 = 0x9e37_79b9;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        (seed % 48) as i32 - 24
    };
    let picture = RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
        let base = [
            90.0 + 120.0 * fx,
            60.0 + 140.0 * (1.0 - fy),
            120.0 + 80.0 * (fx * fy),
        ];
        Rgb(base.map(|c| (c as i32 + noise()).clamp(0, 255) as u8))
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 95)
        .encode_image(&picture)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// A bearer token for the bench user.
fn token(args: &Args) -> Result<String, String> {
    let claims = json!({"iss": args.issuer, "sub": "bench-media", "preferred_username": "mediabench",
                        "exp": chrono::Utc::now().timestamp() + 3600});
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(args.jwt_secret.as_bytes()),
    )
    .map_err(|e| e.to_string())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[at - 1]
}

fn report(what: &str, mut times: Vec<Duration>, bytes: usize, wall: Option<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    print!(
        "{what}: n={} p50={:.1} ms p99={:.1} ms max={:.1} ms",
        times.len(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(percentile(&times, 1.0)),
    );
    if let Some(wall) = wall {
        let total = (bytes * times.len()) as f64 / 1_000_000.0;
        print!(
            "; {:.1} MB/s, {:.2} uploads/s",
            total / wall.as_secs_f64(),
            times.len() as f64 / wall.as_secs_f64()
        );
    }
    println!();
}

/// The server's image pipeline, in this process, `n` times.
fn pipeline(args: &Args, photo: &[u8]) -> Result<(), String> {
    let mut times = vec![];
    let mut last = None;
    for _ in 0..args.uploads.clamp(1, 10) {
        let started = Instant::now();
        let processed = confab::media::image::process(photo, args.max_pixels)
            .map_err(|e| format!("pipeline: {e}"))?;
        times.push(started.elapsed());
        last = Some(processed);
    }
    if let Some(p) = last {
        println!(
            "pipeline result: {}x{} {} of {:.2} MB, thumbnail {} KB",
            p.width,
            p.height,
            p.content_type,
            p.data.len() as f64 / 1e6,
            p.thumbnail.len() / 1000
        );
    }
    report(
        "image pipeline in process (decode, re-encode, thumbnail, blurhash)",
        times,
        photo.len(),
        None,
    );
    Ok(())
}

/// Uploads `body` `args.uploads` times, `args.concurrency` at once.
async fn uploads(args: &Args, token: &str, what: &str, body: Vec<u8>) -> Result<(), String> {
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/media", args.url);
    let body = bytes::Bytes::from(body);
    let started = Instant::now();
    let mut times = vec![];
    let mut left = args.uploads;
    while left > 0 {
        let batch = left.min(args.concurrency.max(1));
        left -= batch;
        let requests = (0..batch).map(|_| {
            let request = client
                .post(&url)
                .bearer_auth(token)
                .header("content-type", "application/octet-stream")
                .body(body.clone());
            async move {
                let sent = Instant::now();
                let answer = request.send().await.map_err(|e| e.to_string())?;
                let status = answer.status();
                let item: Value = answer.json().await.map_err(|e| e.to_string())?;
                if !status.is_success() {
                    return Err(format!("upload answered {status}: {item}"));
                }
                Ok::<_, String>(sent.elapsed())
            }
        });
        for time in futures_util::future::join_all(requests).await {
            times.push(time?);
        }
    }
    report(what, times, body.len(), Some(started.elapsed()));
    Ok(())
}

async fn run(args: &Args) -> Result<(), String> {
    let photo = photo(args.photo_mb)?;
    println!(
        "test photo: {:.2} MB JPEG; {} uploads of each kind, {} in flight",
        photo.len() as f64 / 1e6,
        args.uploads,
        args.concurrency
    );
    pipeline(args, &photo)?;
    let token = token(args)?;
    uploads(args, &token, "photo upload (processed)", photo.clone()).await?;
    // The same bytes behind a PDF header: stored as a stream, not decoded.
    let mut file = b"%PDF-1.7\n".to_vec();
    file.extend_from_slice(&photo);
    uploads(args, &token, "file upload (streamed)", file).await
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("confab-mediabench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
