//! New jobs are written in batches (group commit): under load, one transaction per enqueue made
//! every enqueue wait for its own WAL commit and for the control database's write lock, so
//! enqueues ran well below other writes (issue 13 #6). The writer thread takes whatever is
//! queued (up to [`MAX_BATCH`]), inserts it in one transaction and then answers each request: a
//! job is acknowledged only once its batch is committed, so a `kill -9` loses no acknowledged job.

use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::jobs::{self, JobRow};
use super::pool::Pool;

const MAX_BATCH: usize = 512;

type Reply = oneshot::Sender<Result<(), String>>;

pub struct JobWriter {
    tx: parking_lot::Mutex<Option<mpsc::Sender<(JobRow, Reply)>>>,
}

impl JobWriter {
    /// Starts the writer thread on its own connection of `pool`.
    pub fn start(pool: Arc<Pool>) -> JobWriter {
        let (tx, rx) = mpsc::channel::<(JobRow, Reply)>();
        std::thread::Builder::new()
            .name("aerostack-jobs-writer".into())
            .spawn(move || writer_loop(&pool, &rx))
            .expect("spawn the jobs writer thread");
        JobWriter { tx: parking_lot::Mutex::new(Some(tx)) }
    }

    /// Inserts `job`; answers once it is committed.
    pub async fn insert(&self, job: JobRow) -> Result<(), String> {
        let (reply, done) = oneshot::channel();
        let sent = self.tx.lock().as_ref().map(|tx| tx.send((job, reply)).is_ok());
        if sent != Some(true) {
            return Err("the jobs writer has stopped (the platform is shutting down)".into());
        }
        done.await.unwrap_or_else(|_| Err("the jobs writer stopped before committing the job".into()))
    }

    /// Stops the writer once what is queued is committed.
    pub fn shutdown(&self) {
        self.tx.lock().take();
    }
}

fn writer_loop(pool: &Arc<Pool>, rx: &mpsc::Receiver<(JobRow, Reply)>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let result = commit(pool, &batch);
        for (_, reply) in batch {
            let _ = reply.send(result.clone());
        }
    }
}

/// One transaction for the batch, retried briefly on a momentary lock.
fn commit(pool: &Arc<Pool>, batch: &[(JobRow, Reply)]) -> Result<(), String> {
    let attempt = || -> Result<(), String> {
        let db = pool.get().map_err(|e| e.to_string())?;
        let tx = db.conn.unchecked_transaction().map_err(|e| e.to_string())?;
        for (job, _) in batch {
            jobs::insert(&tx, job).map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())
    };
    let mut result = attempt();
    for wait_ms in [20, 100, 500] {
        if result.is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        result = attempt();
    }
    if let Err(e) = &result {
        tracing::error!("jobs writer: {e}; {} job(s) were not enqueued", batch.len());
    }
    result
}
