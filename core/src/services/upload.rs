//! Upload sources for `storage.upload`: bytes, a file path or an `AsyncRead`, streamed into a
//! multipart body with progress reporting.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{Stream, TryStreamExt};
use reqwest::multipart::{Form, Part};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncRead;
use tokio_util::io::ReaderStream;

use crate::error::{Error, ErrorCode, Result};
use crate::transport::{Activity, FormSource};

/// Chunk size for streaming and progress granularity.
const CHUNK: usize = 64 * 1024;

/// Progress of an upload, reported as bytes go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadProgress {
    /// Bytes of the file handed to the connection so far (in this attempt).
    pub sent: u64,
    /// Total size when known.
    pub total: Option<u64>,
}

/// Progress callback. Called on the engine's thread for every chunk: keep it cheap (bindings
/// push into a queue).
pub type ProgressFn = Arc<dyn Fn(UploadProgress) + Send + Sync>;

/// What to upload.
///
/// `Bytes` and `Path` sources can be retried (the file is re-opened per attempt); a `Reader` is
/// consumed by the first attempt, so an upload from a reader is never retried.
pub enum UploadSource {
    /// In-memory data.
    Bytes(Bytes),
    /// A file streamed from disk (never read into memory as a whole).
    Path(PathBuf),
    /// Any async reader, streamed; `size` enables `Content-Length` and progress totals.
    Reader {
        /// The reader.
        reader: Box<dyn AsyncRead + Send + Unpin>,
        /// Its length, when known.
        size: Option<u64>,
    },
}

impl UploadSource {
    /// A reader source.
    pub fn reader(
        reader: impl AsyncRead + Send + Unpin + 'static,
        size: Option<u64>,
    ) -> UploadSource {
        UploadSource::Reader {
            reader: Box::new(reader),
            size,
        }
    }

    /// A file path source.
    pub fn path(path: impl Into<PathBuf>) -> UploadSource {
        UploadSource::Path(path.into())
    }
}

impl fmt::Debug for UploadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UploadSource::Bytes(b) => write!(f, "UploadSource::Bytes({} bytes)", b.len()),
            UploadSource::Path(p) => write!(f, "UploadSource::Path({p:?})"),
            UploadSource::Reader { size, .. } => write!(f, "UploadSource::Reader(size: {size:?})"),
        }
    }
}

impl From<Bytes> for UploadSource {
    fn from(b: Bytes) -> Self {
        UploadSource::Bytes(b)
    }
}

impl From<Vec<u8>> for UploadSource {
    fn from(v: Vec<u8>) -> Self {
        UploadSource::Bytes(v.into())
    }
}

impl From<&'static [u8]> for UploadSource {
    fn from(v: &'static [u8]) -> Self {
        UploadSource::Bytes(Bytes::from_static(v))
    }
}

impl From<&'static str> for UploadSource {
    fn from(v: &'static str) -> Self {
        UploadSource::Bytes(Bytes::from_static(v.as_bytes()))
    }
}

impl From<PathBuf> for UploadSource {
    fn from(p: PathBuf) -> Self {
        UploadSource::Path(p)
    }
}

impl From<&Path> for UploadSource {
    fn from(p: &Path) -> Self {
        UploadSource::Path(p.to_path_buf())
    }
}

/// Options of `storage.upload`.
#[derive(Clone, Default)]
pub struct UploadOptions {
    /// MIME type; guessed from the key's (or file's) extension when unset.
    pub content_type: Option<String>,
    /// Called as bytes go out.
    pub progress: Option<ProgressFn>,
    /// `Some(false)`: a private object, served only through signed URLs
    /// ([`crate::services::Storage::get_url`] with `expires_in`). Default: public.
    pub public: Option<bool>,
}

impl UploadOptions {
    /// Options with a content type.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Options with a progress callback.
    pub fn on_progress(mut self, f: impl Fn(UploadProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }
}

impl fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadOptions")
            .field("content_type", &self.content_type)
            .field("progress", &self.progress.as_ref().map(|_| "Fn"))
            .field("public", &self.public)
            .finish()
    }
}

/// MIME type from a file extension (a small table of common types).
pub fn guess_content_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "bmp" => "image/bmp",
        "pdf" => "application/pdf",
        "json" => "application/json",
        "xml" => "application/xml",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "wasm" => "application/wasm",
        "js" | "mjs" => "text/javascript",
        "css" => "text/css",
        "html" | "htm" => "text/html",
        "txt" | "log" => "text/plain",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        _ => "application/octet-stream",
    }
}

enum State {
    Bytes(Bytes),
    Path(PathBuf),
    /// Taken by the first attempt.
    Reader(
        Mutex<Option<Box<dyn AsyncRead + Send + Unpin>>>,
        Option<u64>,
    ),
}

/// The multipart body of one upload: fields `key`, `contentType`, then `file`.
pub(crate) struct UploadForm {
    key: String,
    content_type: String,
    public: Option<bool>,
    file_name: String,
    state: State,
    progress: Option<ProgressFn>,
}

impl UploadForm {
    pub(crate) fn new(key: &str, source: UploadSource, options: &UploadOptions) -> UploadForm {
        let file_name = key
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("file")
            .to_owned();
        let guess_from = match &source {
            UploadSource::Path(p) if !key.contains('.') => p.to_string_lossy().into_owned(),
            _ => key.to_owned(),
        };
        let content_type = options
            .content_type
            .clone()
            .unwrap_or_else(|| guess_content_type(&guess_from).to_owned());
        let state = match source {
            UploadSource::Bytes(b) => State::Bytes(b),
            UploadSource::Path(p) => State::Path(p),
            UploadSource::Reader { reader, size } => State::Reader(Mutex::new(Some(reader)), size),
        };
        UploadForm {
            key: key.to_owned(),
            content_type,
            public: options.public,
            file_name,
            state,
            progress: options.progress.clone(),
        }
    }

    pub(crate) fn content_type(&self) -> &str {
        &self.content_type
    }

    /// Size when known before sending (files are stat'ed when each attempt opens them).
    pub(crate) fn known_size(&self) -> Option<u64> {
        match &self.state {
            State::Bytes(b) => Some(b.len() as u64),
            State::Reader(_, size) => *size,
            State::Path(_) => None,
        }
    }

    async fn file_part(&self, activity: Activity) -> Result<Part> {
        let progress = self.progress.clone();
        let part = match &self.state {
            State::Bytes(b) => {
                let total = b.len() as u64;
                let b = b.clone();
                // Zero-copy slices so progress fires per chunk as hyper pulls them.
                let chunks =
                    futures_util::stream::iter((0..b.len().div_ceil(CHUNK)).map(move |i| {
                        Ok::<_, std::io::Error>(b.slice(i * CHUNK..((i + 1) * CHUNK).min(b.len())))
                    }));
                let body =
                    reqwest::Body::wrap_stream(track(chunks, Some(total), progress, activity));
                Part::stream_with_length(body, total)
            }
            State::Path(path) => {
                let file = tokio::fs::File::open(path).await.map_err(|e| {
                    Error::validation("source", format!("cannot open {}: {e}", path.display()))
                        .with_source(e)
                })?;
                let meta = file.metadata().await.map_err(|e| {
                    Error::validation("source", format!("cannot stat {}: {e}", path.display()))
                        .with_source(e)
                })?;
                if !meta.is_file() {
                    return Err(Error::validation(
                        "source",
                        format!("{} is not a regular file", path.display()),
                    ));
                }
                let total = meta.len();
                let stream = ReaderStream::with_capacity(file, CHUNK);
                let body =
                    reqwest::Body::wrap_stream(track(stream, Some(total), progress, activity));
                Part::stream_with_length(body, total)
            }
            State::Reader(slot, size) => {
                let reader = slot
                    .lock()
                    .expect("upload reader lock")
                    .take()
                    .ok_or_else(|| {
                        Error::new(
                            ErrorCode::NetworkError,
                            "an upload from a reader cannot be retried: the reader was consumed",
                        )
                    })?;
                let stream = ReaderStream::with_capacity(reader, CHUNK);
                let body = reqwest::Body::wrap_stream(track(stream, *size, progress, activity));
                match size {
                    Some(len) => Part::stream_with_length(body, *len),
                    None => Part::stream(body),
                }
            }
        };
        part.file_name(self.file_name.clone())
            .mime_str(&self.content_type)
            .map_err(|_| {
                Error::validation(
                    "content_type",
                    format!(
                        "{:?} is not a valid MIME type, e.g. image/png",
                        self.content_type
                    ),
                )
            })
    }
}

/// Counts bytes, marks activity and reports progress as the connection pulls chunks.
fn track<S>(
    stream: S,
    total: Option<u64>,
    progress: Option<ProgressFn>,
    activity: Activity,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static
where
    S: Stream<Item = std::io::Result<Bytes>> + Send + 'static,
{
    activity.touch();
    let mut sent = 0u64;
    stream
        .map_ok(move |chunk| {
            sent += chunk.len() as u64;
            activity.touch();
            if let Some(cb) = &progress {
                cb(UploadProgress { sent, total });
            }
            chunk
        })
        .into_stream()
}

impl FormSource for UploadForm {
    fn form(&mut self, activity: Activity) -> BoxFuture<'_, Result<Form>> {
        Box::pin(async move {
            let file = self.file_part(activity).await?;
            let mut form = Form::new()
                .text("key", self.key.clone())
                .text("contentType", self.content_type.clone());
            if let Some(public) = self.public {
                form = form.text("public", public.to_string());
            }
            Ok(form.part("file", file))
        })
    }

    fn replayable(&self) -> bool {
        !matches!(self.state, State::Reader(..))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_common_types() {
        assert_eq!(guess_content_type("a/b/photo.JPG"), "image/jpeg");
        assert_eq!(guess_content_type("notes.txt"), "text/plain");
        assert_eq!(guess_content_type("data.json"), "application/json");
        assert_eq!(guess_content_type("noext"), "application/octet-stream");
        assert_eq!(guess_content_type("archive.tar.gz"), "application/gzip");
    }

    #[test]
    fn file_name_and_type_from_key() {
        let f = UploadForm::new(
            "avatars/u1.png",
            Bytes::from_static(b"x").into(),
            &UploadOptions::default(),
        );
        assert_eq!(f.file_name, "u1.png");
        assert_eq!(f.content_type(), "image/png");
        let f = UploadForm::new(
            "docs/readme",
            UploadSource::path("/tmp/readme.md"),
            &UploadOptions::default(),
        );
        assert_eq!(
            f.content_type(),
            "text/markdown",
            "falls back to the file's extension"
        );
        let f = UploadForm::new(
            "x.bin",
            Bytes::new().into(),
            &UploadOptions::default().content_type("text/plain"),
        );
        assert_eq!(f.content_type(), "text/plain");
    }
}
