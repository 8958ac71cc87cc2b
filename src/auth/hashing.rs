//! `HashPool`: a few dedicated threads that run password hashing, behind a
//! bounded queue. Each argon2id hash takes 19 MiB for tens of milliseconds;
//! without a bound a login flood runs hundreds at once (gigabytes). A fixed
//! set of threads, each reusing one working memory (`auth::password`),
//! keeps both the peak and what stays allocated to `threads` hashes; work
//! beyond the queue is refused at once, for the caller to answer 429.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// Why hashing did not run.
#[derive(Debug, thiserror::Error)]
pub enum HashPoolError {
    /// Every thread is busy and the queue is full: try again shortly.
    #[error("the server is busy checking passwords; try again in a moment")]
    Busy,
    /// The pool's threads are gone (a hash panicked, or shutdown).
    #[error("the password hashing threads have stopped")]
    Stopped,
}

/// The password hashing threads and their queue.
pub struct HashPool {
    jobs: SyncSender<Job>,
}

impl HashPool {
    /// Starts `threads` hashing threads (at least one) with room for `queue`
    /// waiting jobs.
    pub fn new(threads: usize, queue: usize) -> std::io::Result<Self> {
        let (jobs, receiver) = mpsc::sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..threads.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("confab-hash-{n}"))
                .spawn(move || work(&receiver))?;
        }
        Ok(Self { jobs })
    }

    /// Runs `f` on a hashing thread and waits for its result; refuses at
    /// once when the queue is full. If the caller stops waiting, a job
    /// already queued still runs (the pool's bound holds regardless).
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashPoolError> {
        let result = self.submit(f)?;
        result.await.map_err(|_| HashPoolError::Stopped)
    }

    /// Queues `f`, returning where its result will arrive.
    fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<oneshot::Receiver<T>, HashPoolError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        match self.jobs.try_send(job) {
            Ok(()) => Ok(rx),
            Err(TrySendError::Full(_)) => Err(HashPoolError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(HashPoolError::Stopped),
        }
    }
}

/// One hashing thread: takes jobs until the pool is dropped.
fn work(receiver: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            // A panic elsewhere cannot leave the receiver inconsistent.
            let guard = receiver.lock().unwrap_or_else(|e| e.into_inner());
            guard.recv()
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    #[tokio::test]
    async fn runs_jobs_and_refuses_beyond_the_queue() {
        let pool = HashPool::new(1, 1).unwrap();
        assert_eq!(pool.run(|| 2 + 2).await.unwrap(), 4);
        // Hold the only thread, fill the one queue slot, then overflow.
        let gate = Arc::new(Barrier::new(2));
        let held = gate.clone();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let busy = pool
            .submit(move || {
                let _ = started_tx.send(());
                held.wait();
            })
            .unwrap();
        started_rx.recv().unwrap();
        let queued = pool.submit(|| 1).unwrap();
        assert!(matches!(pool.submit(|| 0), Err(HashPoolError::Busy)));
        gate.wait();
        busy.await.unwrap();
        assert_eq!(queued.await.unwrap(), 1);
    }
}
