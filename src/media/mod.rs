//! Media storage: one [`MediaStore`] over the local filesystem (the
//! default, `media_dir`) or S3-compatible object storage (`media_url =
//! s3://bucket/prefix`), both through the `object_store` crate; the type
//! of an upload from its magic bytes ([`sniff`]); image processing
//! ([`image`]: dimensions, thumbnail, blurhash, metadata stripped); and
//! the signed capability links media is fetched by ([`capability`]); and
//! files other servers hold, fetched through the guarded client
//! ([`remote`]).
//!
//! Must not import `chat`, `api`, `ws`, `apub` or axum: `chat::media`
//! decides who may store and read what, and uses this to do it.

pub mod capability;
pub mod image;
pub mod remote;
pub mod sniff;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload, WriteMultipart};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What can go wrong storing or reading media.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The upload passed the byte limit it was given.
    #[error("the upload is larger than {0} bytes")]
    TooLarge(u64),
    /// An image whose decoding is refused or failed (too many pixels,
    /// corrupt data).
    #[error("{0}")]
    BadImage(String),
    /// The client's body stream failed (disconnect, deadline).
    #[error("the upload did not arrive: {0}")]
    Body(std::io::Error),
    /// A requested byte range lies outside the object.
    #[error("the requested range is outside the object")]
    Range,
    /// The object is not in the store.
    #[error("the object is missing from the media store")]
    Missing,
    /// The store failed.
    #[error("media store: {0}")]
    Store(object_store::Error),
    /// A setting is unusable.
    #[error("{0}")]
    Config(String),
    /// A remote file could not be fetched (refused address, HTTP error,
    /// deadline, too large); the message says which, never what the
    /// remote server wrote.
    #[error("{0}")]
    Remote(String),
}

impl From<object_store::Error> for MediaError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => MediaError::Missing,
            other => MediaError::Store(other),
        }
    }
}

/// Where media is stored, from the configuration.
#[derive(Debug, Clone)]
pub enum StoreSettings {
    /// A directory on the local filesystem (created on the first write).
    Local(PathBuf),
    /// An S3-compatible bucket.
    S3 {
        bucket: String,
        /// Prepended to every object key (may be empty).
        prefix: String,
        /// `http(s)://host:port` of a non-AWS server; `None` for AWS.
        endpoint: Option<String>,
        region: String,
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
    },
}

impl StoreSettings {
    /// Reads `media_url` (`s3://bucket/prefix`), or else the local
    /// directory: `media_dir`, or `media/` beside the SQLite file, or
    /// `media/` in the working directory (PostgreSQL).
    pub fn from_config(config: &crate::config::Config) -> Result<Self, MediaError> {
        if let Some(url) = &config.media_url {
            let rest = url.strip_prefix("s3://").ok_or_else(|| {
                MediaError::Config(format!("media_url: {url:?} is not s3://bucket/prefix"))
            })?;
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(MediaError::Config("media_url: the bucket is empty".into()));
            }
            return Ok(StoreSettings::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
                endpoint: config.media_s3_endpoint.clone(),
                region: config.media_s3_region.clone(),
                access_key_id: config.media_s3_access_key_id.clone(),
                secret_access_key: config.media_s3_secret_access_key.clone(),
            });
        }
        let dir = match &config.media_dir {
            Some(dir) => dir.clone(),
            None => default_dir(&config.database_url),
        };
        let dir = std::path::absolute(&dir)
            .map_err(|e| MediaError::Config(format!("media_dir {}: {e}", dir.display())))?;
        Ok(StoreSettings::Local(dir))
    }
}

/// `media/` beside a SQLite file, else in the working directory.
fn default_dir(database_url: &str) -> PathBuf {
    let sqlite = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"));
    match sqlite.map(Path::new).and_then(Path::parent) {
        Some(parent) => parent.join("media"),
        None => PathBuf::from("media"),
    }
}

/// The media objects: put (streamed or whole), read (with a byte range),
/// delete. Cheap to clone.
#[derive(Clone)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
    /// Where objects go, for logs and errors.
    location: String,
}

/// A read object: its total size, the range served, and its bytes.
pub struct Fetched {
    pub total_bytes: u64,
    /// The bytes returned (the whole object without a range).
    pub range: std::ops::Range<u64>,
    pub body: futures_util::stream::BoxStream<'static, Result<Bytes, MediaError>>,
}

impl MediaStore {
    /// Opens the store (no request is made: a bad bucket shows on first use).
    pub fn open(settings: &StoreSettings) -> Result<Self, MediaError> {
        match settings {
            StoreSettings::Local(dir) => {
                // Rooted at `/` so the directory is created on the first
                // write rather than at start.
                let text = dir.to_str().ok_or_else(|| {
                    MediaError::Config(format!("media_dir {} is not UTF-8", dir.display()))
                })?;
                let prefix = StorePath::parse(text.trim_start_matches('/'))
                    .map_err(|e| MediaError::Config(format!("media_dir: {e}")))?;
                Ok(Self {
                    store: Arc::new(PrefixStore::new(LocalFileSystem::new(), prefix)),
                    location: dir.display().to_string(),
                })
            }
            StoreSettings::S3 {
                bucket,
                prefix,
                endpoint,
                region,
                access_key_id,
                secret_access_key,
            } => {
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region);
                if let Some(endpoint) = endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                if let Some(key) = access_key_id {
                    builder = builder.with_access_key_id(key);
                }
                if let Some(secret) = secret_access_key {
                    builder = builder.with_secret_access_key(secret);
                }
                let s3 = builder.build()?;
                let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(PrefixStore::new(s3, prefix.as_str()))
                };
                Ok(Self {
                    store,
                    location: format!("s3://{bucket}/{prefix}"),
                })
            }
        }
    }

    /// Where objects go (a directory or an `s3://` URL).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Stores `bytes` under `key` in one request.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), MediaError> {
        self.store
            .put(&StorePath::from(key), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    /// Streams `head` then `rest` to `key` in parts (bounded memory),
    /// refusing, and removing what was written, past `limit_bytes`.
    /// Returns the size stored.
    pub async fn put_stream<S>(
        &self,
        key: &str,
        head: Bytes,
        mut rest: S,
        limit_bytes: u64,
    ) -> Result<u64, MediaError>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin,
    {
        let upload = self.store.put_multipart(&StorePath::from(key)).await?;
        let mut writer = WriteMultipart::new(upload);
        let mut size = head.len() as u64;
        writer.put(head);
        let outcome = loop {
            match rest.next().await {
                None => break Ok(()),
                Some(Err(e)) => break Err(MediaError::Body(e)),
                Some(Ok(chunk)) => {
                    size += chunk.len() as u64;
                    if size > limit_bytes {
                        break Err(MediaError::TooLarge(limit_bytes));
                    }
                    // At most two parts in flight: memory stays bounded
                    // whatever the client sends.
                    if let Err(e) = writer.wait_for_capacity(2).await {
                        break Err(e.into());
                    }
                    writer.put(chunk);
                }
            }
        };
        match outcome {
            Ok(()) => {
                writer.finish().await?;
                Ok(size)
            }
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(key, "aborting a refused upload failed: {abort}");
                }
                Err(e)
            }
        }
    }

    /// Reads `key`, or the byte `range` of it (`None`: all).
    pub async fn get(&self, key: &str, range: Option<GetRange>) -> Result<Fetched, MediaError> {
        let options = GetOptions {
            range,
            ..GetOptions::default()
        };
        let result = self
            .store
            .get_opts(&StorePath::from(key), options)
            .await
            .map_err(|e| match e {
                object_store::Error::NotModified { .. } => MediaError::Range,
                object_store::Error::Generic { ref source, .. }
                    if source.to_string().contains("range") =>
                {
                    MediaError::Range
                }
                other => other.into(),
            })?;
        let total_bytes = result.meta.size;
        let range = result.range.clone();
        let body = result
            .into_stream()
            .map(|chunk| chunk.map_err(MediaError::from))
            .boxed();
        Ok(Fetched {
            total_bytes,
            range,
            body,
        })
    }

    /// Removes `key` (already gone: fine).
    pub async fn delete(&self, key: &str) -> Result<(), MediaError> {
        match self.store.delete(&StorePath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// The key of an item's thumbnail.
pub fn thumbnail_key(key: &str) -> String {
    format!("{key}.thumb")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_dir_is_beside_the_sqlite_file() {
        assert_eq!(
            default_dir("sqlite:///var/lib/confab/confab.db"),
            PathBuf::from("/var/lib/confab/media")
        );
        assert_eq!(default_dir("postgres://x@y/z"), PathBuf::from("media"));
    }

    #[tokio::test]
    async fn local_store_streams_limits_and_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::open(&StoreSettings::Local(dir.path().join("m"))).unwrap();
        let chunks = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"world")),
            Ok(Bytes::from_static(b"!")),
        ]);
        let n = store
            .put_stream("a", Bytes::from_static(b"hello "), chunks, 100)
            .await
            .unwrap();
        assert_eq!(n, 12);
        let got = store
            .get("a", Some(GetRange::Bounded(6..11)))
            .await
            .unwrap();
        assert_eq!((got.total_bytes, got.range), (12, 6..11));
        let body: Vec<Bytes> = got.body.map(|b| b.unwrap()).collect().await;
        assert_eq!(body.concat(), b"world");

        let big = futures_util::stream::iter(vec![Ok(Bytes::from(vec![0u8; 50]))]);
        let refused = store
            .put_stream("b", Bytes::from(vec![0u8; 60]), big, 100)
            .await;
        assert!(matches!(refused, Err(MediaError::TooLarge(100))));
        assert!(matches!(
            store.get("b", None).await,
            Err(MediaError::Missing)
        ));
        store.delete("a").await.unwrap();
        assert!(matches!(
            store.get("a", None).await,
            Err(MediaError::Missing)
        ));
    }
}
