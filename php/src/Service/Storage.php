<?php

declare(strict_types=1);

namespace Aerostack\Service;

use Aerostack\Exception\ValidationException;
use Aerostack\Native;
use Aerostack\Native\NativeError;
use Aerostack\StoredObject;

/** File storage with public URLs. */
final class Storage extends Service
{
    /**
     * Uploads `$file` under the storage key `$key`: a string of bytes, a stream resource
     * (`fopen(..., 'rb')`: a local file is streamed from disk by the engine, other streams are read to their end) or a `\SplFileInfo` of a local file (streamed from
     * disk by the engine). `$progress(int $sent, ?int $total)` is called on this thread while
     * the upload runs. The result has `url`, `key`, `size`, `contentType`, `public`.
     * `public: false` stores a private object, served only through signed URLs
     * (`getUrl($key, expiresIn: ...)`); its `url` is then a signed one (1 h).
     *
     * @param string|resource|\SplFileInfo $file
     */
    public function upload(mixed $file, string $key, ?string $contentType = null, ?callable $progress = null, ?bool $public = null, array $options = []): mixed
    {
        $args = ['key' => $key, 'content_type' => $contentType, 'public' => $public];
        $data = null;
        if ($file instanceof \SplFileInfo) {
            $args['path'] = $file->getPathname();
        } elseif (is_resource($file) && self::plainFileAtStart($file) !== null) {
            // A file opened with fopen(): the engine streams it from disk instead of PHP reading it.
            $args['path'] = self::plainFileAtStart($file);
        } elseif (is_resource($file)) {
            $data = stream_get_contents($file);
            if ($data === false) {
                throw new ValidationException('storage->upload could not read the stream given as $file', 'VALIDATION_ERROR', details: ['field' => 'file']);
            }
        } elseif (is_string($file)) {
            $data = $file;
        } else {
            throw new ValidationException(
                sprintf('storage->upload takes the bytes as a string, a stream resource or a \\SplFileInfo of a path as $file, got %s', get_debug_type($file)),
                'VALIDATION_ERROR',
                details: ['field' => 'file']
            );
        }
        return $this->t->upload($args, $data, $progress, $options);
    }

    /** @param resource $stream the path of a plain local file read from its start, else null */
    private static function plainFileAtStart($stream): ?string
    {
        $meta = stream_get_meta_data($stream);
        if (($meta['wrapper_type'] ?? '') !== 'plainfile' || !isset($meta['uri']) || ftell($stream) !== 0 || !is_file($meta['uri'])) {
            return null;
        }
        return $meta['uri'];
    }

    /** The object's content (`->data`, `->contentType`). */
    public function get(string $key, array $options = []): StoredObject
    {
        $args = ['key' => $key];
        if ($options !== []) {
            $args['_options'] = Native::callOptions($options);
        }
        try {
            $got = $this->t->native->download(Native::encode($args));
        } catch (NativeError $e) {
            throw Native::error($e);
        }
        if ($got === []) {
            // A signal interrupted the wait (pcntl_async_signals): its handler has run.
            throw new \Aerostack\Exception\CancelledException("the download of {$key} was interrupted by a signal; its handler ran and the download was dropped", 'CANCELLED');
        }
        [$data, $type] = $got;
        return new StoredObject($data, $type);
    }

    /** The object's public URL. */
    /**
     * The object's URL. With `$expiresIn` (seconds, up to 7 days) a signed URL that works that
     * long for anyone who has it; a private object always gets one (1 h by default).
     */
    public function getUrl(string $key, ?int $expiresIn = null, array $options = []): mixed
    {
        return $this->t->call('storage.get_url', ['key' => $key, 'expires_in' => $expiresIn], $options);
    }

    /** One page of objects: `objects` ([{key, size, contentType, ...}]), `cursor`. */
    public function list(?string $prefix = null, ?int $limit = null, ?string $cursor = null, array $options = []): mixed
    {
        return $this->t->call('storage.list', ['prefix' => $prefix, 'limit' => $limit, 'cursor' => $cursor], $options);
    }

    /** Every object under `$prefix`, following the cursor page by page. */
    public function listAll(?string $prefix = null, ?int $pageSize = null, array $options = []): \Generator
    {
        return $this->t->stream('storage.list_all', ['prefix' => $prefix, 'page_size' => $pageSize], $options);
    }

    /** Deletes an object; whether it existed. */
    public function delete(string $key, array $options = []): mixed
    {
        return $this->t->call('storage.delete', ['key' => $key], $options);
    }

    /** Whether an object exists. */
    public function exists(string $key, array $options = []): mixed
    {
        return $this->t->call('storage.exists', ['key' => $key], $options);
    }

    /** `{key, size, contentType, lastModified, etag}`, or null when missing. */
    public function metadata(string $key, array $options = []): mixed
    {
        return $this->t->call('storage.metadata', ['key' => $key], $options);
    }

    /** Copies an object; the new object's URL. */
    public function copy(string $sourceKey, string $destKey, array $options = []): mixed
    {
        return $this->t->call('storage.copy', ['source_key' => $sourceKey, 'dest_key' => $destKey], $options);
    }

    /** Moves (renames) an object; the new URL. */
    public function move(string $sourceKey, string $destKey, array $options = []): mixed
    {
        return $this->t->call('storage.move', ['source_key' => $sourceKey, 'dest_key' => $destKey], $options);
    }
}
