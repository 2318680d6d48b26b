<?php

declare(strict_types=1);

namespace Aerostack\Service;

/** Server-side broadcast to realtime rooms: `$client->socket->emit($event, $data, $room)`. */
final class Socket extends Service
{
    /** Sends `$event` with `$data` to every subscriber of `$room`; `{id, topic, timestamp, delivered, persisted}`. */
    public function emit(string $event, mixed $data = null, string $room = 'general', bool $persist = false, array $options = []): mixed
    {
        return $this->t->call('realtime.emit', ['event' => $event, 'data' => $data, 'room' => $room, 'persist' => $persist], $options);
    }
}
