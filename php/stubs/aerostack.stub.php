<?php

// IDE stubs of the `aerostack` extension's classes (bindings/php). Never loaded at run time: the
// extension defines these. The Composer package's classes (Aerostack\Client, ...) are the API;
// these are the plumbing under them. JSON crosses as text.

namespace Aerostack\Native {
    /** Every engine failure; the message is the error object as JSON (code, family, status, message, request_id, retryable, retry_after_ms, details, body). */
    class NativeError extends \Exception {}

    function engine_version(): string {}
    function version(): string {}
    /** @return list<string> */
    function operations(): array {}
    /** Where the times and the user's data are, per result type (op name, `realtime.event`, ...): JSON `{"times": {...}, "user_data": {...}}`. */
    function result_paths(): string {}
    function job_type_from_function_name(string $name): string {}
    /** @return list<array{0: string, 1: string}> */
    function engine_option_names(): array {}
    /** @return list<array{0: int, 1: string, 2: string}> [client id (Client::id()), level, message] */
    function drain_logs(): array {}
    /** @param list<string> $specs */
    function rate_limits_from_flags(array $specs, bool $noRateLimits): string {}

    final class Client
    {
        public function __construct(string $optionsJson) {}
        public function id(): int {}
        public function withOptions(string $callOptionsJson): Client {}
        /** The JSON answer; null when a signal for a pcntl handler interrupted the wait (the call is dropped). */
        public function call(string $op, string $argsJson): ?string {}
        public function spawn(string $op, string $argsJson): Task {}
        public function upload(string $argsJson, ?string $data): Task {}
        /** @return array{0: string, 1: ?string} */
        public function download(string $argsJson): array {}
        public function stream(string $op, string $argsJson): Stream {}
        public function realtime(string $optionsJson): Realtime {}
        /** Null when a signal for a pcntl handler interrupted the handshake. */
        public function gatewaySocket(string $apiSlug, ?string $consumerKey): ?GatewaySocket {}
    }

    final class Task
    {
        public function waitFor(?int $timeoutMs): bool {}
        public function isDone(): bool {}
        public function result(): string {}
        public function cancel(): void {}
        /** @return array{0: int, 1: ?int}|null */
        public function progress(): ?array {}
    }

    final class Stream
    {
        public function next(): ?string {}
        public function interrupted(): bool {}
        public function close(): void {}
    }

    /** The AI gateway's chat socket; sends return the id their answering events carry as `request`. */
    final class GatewaySocket
    {
        public function url(): string {}
        public function apiSlug(): string {}
        public function state(): string {}
        public function sendChat(string $argsJson): int {}
        /** The JSON answer; null when a signal for a pcntl handler interrupted the wait. */
        public function chat(string $argsJson): ?string {}
        /** The next step of chat `$request` as JSON (token, or done at its end); null when interrupted. */
        public function chatStep(int $request, ?int $timeoutMs): ?string {}
        public function ping(): int {}
        public function send(string $frameJson): int {}
        /** The next event as JSON; null on timeout, after `closed`, or when interrupted (see `interrupted()`). */
        public function nextEvent(?int $timeoutMs): ?string {}
        public function interrupted(): bool {}
        public function close(?int $code, ?string $reason): void {}
    }

    final class Realtime
    {
        public function url(): string {}
        public function status(): string {}
        public function droppedEvents(): int {}
        public function sendChat(string $roomId, string $text, string $metadataJson): void {}
        public function connect(): Task {}
        public function disconnect(): Task {}
        public function channel(string $topic, string $filter_json): Channel {}
        public function setToken(string $token): void {}
        public function nextEvent(?int $timeoutMs): ?string {}
        public function tryNextEvent(): ?string {}
    }

    final class Channel
    {
        public function topic(): string {}
        public function isSubscribed(): bool {}
        public function waitSubscribed(int $timeoutMs): Task {}
        public function on(string $event): int {}
        public function off(int $id): bool {}
        public function publish(string $event, string $dataJson, string $optionsJson): Task {}
        public function track(string $stateJson): void {}
        public function untrack(): void {}
        public function presence(): string {}
        public function history(?int $limit, ?int $before): string {}
        public function unsubscribe(): void {}
    }

    final class Worker
    {
        public static function connect(string $optionsJson, string $registrationJson): Worker {}
        public function nextInvocation(?int $timeoutMs): ?Invocation {}
        public function complete(string $id, string $resultJson): void {}
        public function fail(string $id, string $message): void {}
        public function drain(): void {}
        public function stop(int $graceMs): void {}
        public function isClosed(): bool {}
        public function projectId(): ?string {}
    }

    final class Invocation
    {
        public function id(): string {}
        public function kind(): string {}
        public function name(): string {}
        public function projectId(): string {}
        public function event(): string {}
        public function deadlineMs(): int {}
        public function toJson(): string {}
        public function isCancelled(): bool {}
        public function client(): Client {}
    }

    final class LocalPlatform
    {
        public static function start(string $optionsJson): LocalPlatform {}
        public function info(): string {}
        public function createProject(string $name): string {}
        public function running(): bool {}
        public function shutdown(): void {}
    }
}
