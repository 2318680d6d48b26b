<?php

// The throwaway consumer project's program: Composer's autoloader only.

declare(strict_types=1);

require __DIR__ . '/vendor/autoload.php';

$platform = Aerostack\Local\Platform::start();
$client = new Aerostack\Client(projectId: $platform->projectId, apiKey: $platform->apiKey, baseUrl: $platform->apiUrl);
$rows = $client->db->query('SELECT ? AS greeting', ['hello from composer']);
echo $rows[0]['greeting'], "\n";
[$a, $b] = Aerostack\all([$client->async()->cache->set('k', 1), $client->async()->cache->get('k')]);
$platform->shutdown();
echo "consumer: ok\n";
