<?php

declare(strict_types=1);

namespace Aerostack\Service;

/** Background jobs, served by queue workers (`Aerostack\Worker::job`). */
final class Queue extends Service
{
    /** Enqueues a job of type `$type`; `jobId`. */
    public function send(string $type, array $data = [], ?int $delaySeconds = null, ?int $maxRetries = null, array $options = []): mixed
    {
        return $this->enqueue($type, $data, $delaySeconds, $maxRetries, $options);
    }

    /** Same as `send` (seed 000's name); `jobId`. */
    public function enqueue(string $type, array $data = [], ?int $delaySeconds = null, ?int $maxRetries = null, array $options = []): mixed
    {
        return $this->t->call('queue.enqueue', ['type' => $type, 'data' => (object) $data, 'delay_seconds' => $delaySeconds, 'max_retries' => $maxRetries], $options);
    }

    /** A job (`status`, `attempts`, `lastError`, `maxRetries`, `history`, `result`...), or null. */
    public function job(string $jobId, array $options = []): mixed
    {
        return $this->t->call('queue.job', ['job_id' => $jobId], $options);
    }

    /** One page of jobs: `jobs`, `list_complete`, `cursor`. */
    public function jobs(?string $status = null, ?string $type = null, ?int $limit = null, ?string $cursor = null, array $options = []): mixed
    {
        return $this->t->call('queue.jobs', ['status' => $status, 'type' => $type, 'limit' => $limit, 'cursor' => $cursor], $options);
    }

    /** Every job matching the filter (from `$cursor` when given), page by page. */
    public function jobsAll(?string $status = null, ?string $type = null, ?int $pageSize = null, ?string $cursor = null, array $options = []): \Generator
    {
        return $this->t->stream('queue.jobs_all', ['status' => $status, 'type' => $type, 'page_size' => $pageSize, 'cursor' => $cursor], $options);
    }

    /** Cancels a queued job; `success`. */
    public function cancel(string $jobId, array $options = []): mixed
    {
        return $this->t->call('queue.cancel', ['job_id' => $jobId], $options);
    }

    /** Waits until the job is over (`completed`, `failed` or `cancelled`) and returns it, with `history`; TimeoutException after `$timeoutMs` (the job goes on). */
    public function wait(string $jobId, int $timeoutMs = 30000, array $options = []): mixed
    {
        return $this->t->call('queue.wait', ['job_id' => $jobId, 'timeout_ms' => $timeoutMs], $options);
    }
}
