/* A plain C program over include/aerostack.h: starts the local platform in-process, makes a
 * blocking call and a queued one (with a cancelled call beside it), and checks the answers.
 * Built and run by tests/c_program.rs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aerostack.h"

#define CHECK(status, err)                                                   \
  do {                                                                       \
    if ((status) != AEROSTACK_OK) {                                          \
      fprintf(stderr, "line %d: status %d: %s\n", __LINE__, (int)(status),   \
              (err) ? (err) : "(no error)");                                 \
      return 1;                                                              \
    }                                                                        \
  } while (0)

static const uint8_t *s(const char *t) { return (const uint8_t *)t; }

int main(void) {
  char *err = NULL;
  AerostackPlatform *platform = NULL;
  const char *popts = "{\"port\": 0, \"ephemeral\": true, \"from_env\": false}";
  CHECK(aerostack_platform_start(s(popts), strlen(popts), &platform, &err), err);

  char *info = NULL;
  CHECK(aerostack_platform_info(platform, &info, &err), err);
  /* Pull api_url and api_key out of the info JSON (flat strings, no escapes). */
  char api_url[256], api_key[256], copts[1024];
  const char *u = strstr(info, "\"api_url\":\"") + 11, *k = strstr(info, "\"api_key\":\"") + 11;
  snprintf(api_url, sizeof api_url, "%.*s", (int)(strchr(u, '"') - u), u);
  snprintf(api_key, sizeof api_key, "%.*s", (int)(strchr(k, '"') - k), k);
  aerostack_string_free(info);
  snprintf(copts, sizeof copts, "{\"base_url\": \"%s\", \"api_key\": \"%s\", \"ignore_env\": true}", api_url, api_key);

  AerostackClient *client = NULL;
  const char *ua = "aerostack-c-test/0";
  CHECK(aerostack_client_new(s(copts), strlen(copts), s(ua), strlen(ua), &client, &err), err);

  /* Blocking. */
  char *answer = NULL;
  const char *op = "db.query", *args = "{\"sql\": \"SELECT 40 + 2 AS answer\"}";
  AerostackCancel *cancel = NULL;
  CHECK(aerostack_cancel_new(&cancel, &err), err);
  CHECK(aerostack_client_call_wait(client, s(op), strlen(op), s(args), strlen(args), cancel, &answer, &err), err);
  if (!strstr(answer, "\"answer\":42")) {
    fprintf(stderr, "unexpected answer: %s\n", answer);
    return 1;
  }
  printf("blocking: %s\n", answer);
  aerostack_string_free(answer);

  /* A fired token ends a blocking call with CANCELLED. */
  CHECK(aerostack_cancel_fire(cancel, &err), err);
  answer = NULL;
  if (aerostack_client_call_wait(client, s(op), strlen(op), s(args), strlen(args), cancel, &answer, &err) != AEROSTACK_ERROR
      || answer != NULL || !strstr(err, "\"code\":\"CANCELLED\"")) {
    fprintf(stderr, "expected CANCELLED from a fired token, got %s\n", err ? err : "no error");
    return 1;
  }
  printf("cancelled: %s\n", err);
  aerostack_string_free(err);
  err = NULL;
  aerostack_cancel_free(cancel);

  /* An argument error comes back as the call's outcome, with the field named. */
  const char *bad = "{\"params\": []}";
  uint64_t id = 0;
  AerostackCompletionQueue *queue = NULL;
  CHECK(aerostack_completion_new(&queue, &err), err);
  CHECK(aerostack_client_call(client, queue, s(op), strlen(op), s(bad), strlen(bad), &id, &err), err);
  AerostackCompletion done;
  CHECK(aerostack_completion_next(queue, 10000, &done, &err), err);
  if (done.call_id != id || done.status != AEROSTACK_ERROR || !strstr(done.error, "\"field\":\"sql\"")) {
    fprintf(stderr, "expected a validation error naming sql, got %s\n", done.error ? done.error : "nothing");
    return 1;
  }
  printf("validation: %s\n", done.error);
  aerostack_completion_release(&done);

  /* Queued: a slow call cancelled, a fast one answered. */
  const char *set = "cache.set", *sargs = "{\"key\": \"c-abi\", \"value\": {\"n\": 1}}";
  uint64_t slow = 0, fast = 0;
  const char *sleep_args = "{\"sql\": \"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 5000000) SELECT count(*) FROM c\"}";
  CHECK(aerostack_client_call(client, queue, s(op), strlen(op), s(sleep_args), strlen(sleep_args), &slow, &err), err);
  bool running = false;
  CHECK(aerostack_completion_cancel(queue, slow, &running, &err), err);
  CHECK(aerostack_client_call(client, queue, s(set), strlen(set), s(sargs), strlen(sargs), &fast, &err), err);
  int st = aerostack_completion_next(queue, 10000, &done, &err);
  CHECK(st, err);
  if (done.call_id != fast || done.status != AEROSTACK_OK) {
    fprintf(stderr, "expected call %llu ok, got call %llu status %d: %s\n", (unsigned long long)fast,
            (unsigned long long)done.call_id, done.status, done.error ? done.error : "");
    return 1;
  }
  printf("queued: call %llu -> %s (cancelled call was running: %d)\n", (unsigned long long)done.call_id, done.json, running);
  aerostack_completion_release(&done);
  if (aerostack_completion_next(queue, 200, &done, &err) != AEROSTACK_EMPTY) {
    fprintf(stderr, "the cancelled call completed\n");
    return 1;
  }

  CHECK(aerostack_completion_close(queue, &err), err);
  if (aerostack_completion_next(queue, 1000, &done, &err) != AEROSTACK_CLOSED) return 1;
  aerostack_completion_free(queue);
  aerostack_client_free(client);
  CHECK(aerostack_platform_shutdown(platform, &err), err);
  aerostack_platform_free(platform);
  printf("ok\n");
  return 0;
}
