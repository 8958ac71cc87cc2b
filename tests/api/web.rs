//! Serving the web client: assets compressed by `Accept-Encoding`.

use crate::backend_tests;
use crate::common::TestServer;
use reqwest::header::{
    HeaderMap, HeaderName, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY,
};
use reqwest::{Method, StatusCode};
use std::io::Read;

backend_tests!(assets_are_served_compressed_when_accepted);

/// The URL path of `main.js` as the page names it.
async fn main_js(s: &TestServer) -> String {
    let page = s.request(Method::GET, "/").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let end = html.find("/main.js").expect("the page names main.js") + "/main.js".len();
    let start = html[..end].rfind("/assets/").expect("under /assets/");
    html[start..end].to_owned()
}

/// A response's status, headers and body.
struct Fetched {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Fetched {
    fn header(&self, name: HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// Fetches `path` with `Accept-Encoding: accept` (no such header when empty).
async fn fetch(s: &TestServer, path: &str, accept: &str) -> Fetched {
    let mut req = s.request(Method::GET, path);
    if !accept.is_empty() {
        req = req.header(ACCEPT_ENCODING, accept);
    }
    let response = req.send().await.unwrap();
    Fetched {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

async fn assets_are_served_compressed_when_accepted(s: &TestServer) {
    let path = main_js(s).await;

    let plain = fetch(s, &path, "").await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.header(CONTENT_ENCODING), "");
    assert_eq!(plain.header(VARY), "accept-encoding");
    assert_eq!(plain.header(CONTENT_TYPE), "text/javascript; charset=utf-8");
    let original = plain.body;
    assert!(String::from_utf8_lossy(&original).contains("import"));

    let br = fetch(s, &path, "gzip, deflate, br, zstd").await;
    assert_eq!(br.status, StatusCode::OK);
    assert_eq!(br.header(CONTENT_ENCODING), "br");
    assert_eq!(br.header(VARY), "accept-encoding");
    assert_eq!(br.header(CONTENT_TYPE), "text/javascript; charset=utf-8");
    assert!(br.body.len() < original.len());
    let mut unpacked = Vec::new();
    brotli::Decompressor::new(br.body.as_slice(), 4096)
        .read_to_end(&mut unpacked)
        .unwrap();
    assert_eq!(unpacked, original);

    for accept in ["gzip, deflate", "br;q=0, gzip"] {
        let gz = fetch(s, &path, accept).await;
        assert_eq!(gz.header(CONTENT_ENCODING), "gzip", "{accept}");
        assert!(gz.body.len() < original.len());
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(gz.body.as_slice())
            .read_to_end(&mut unpacked)
            .unwrap();
        assert_eq!(unpacked, original, "{accept}");
    }

    let identity = fetch(s, &path, "identity, *;q=0").await;
    assert_eq!(identity.header(CONTENT_ENCODING), "");
    assert_eq!(identity.body, original);

    // A missing asset is still a JSON 404, whatever the request accepts.
    let missing = path.replace("main.js", "nope.js");
    let gone = fetch(s, &missing, "br").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.header(CONTENT_ENCODING), "");
}
