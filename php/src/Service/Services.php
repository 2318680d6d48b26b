<?php

declare(strict_types=1);

namespace Aerostack\Service;

/** Other services (Logic Modules) of the project. */
final class Services extends Service
{
    /** Invokes a service; `success`, `result`. */
    public function invoke(string $serviceName, mixed $data = null, array $options = []): mixed
    {
        return $this->t->call('services.invoke', ['service_name' => $serviceName, 'data' => $data], $options);
    }
}
