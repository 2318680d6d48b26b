package sdk

import (
	"context"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

// Database is the SQL database (DatabaseApi).
type Database struct{ s *SDK }

// DbQuery executes one SQL statement: {results, count, meta}.
func (d *Database) DbQuery(ctx context.Context, req DbQueryRequest) (Record, error) {
	return d.s.rest(ctx, "database.db_query", req)
}

// DbBatch executes statements in one transaction.
func (d *Database) DbBatch(ctx context.Context, req DbBatchRequest) (Record, error) {
	return d.s.rest(ctx, "database.db_batch", req)
}

// Authentication is sign-up and sign-in (AuthenticationApi).
type Authentication struct{ s *SDK }

// AuthSignin signs a user in: {token, user, expiresAt}.
func (a *Authentication) AuthSignin(ctx context.Context, req AuthSigninRequest) (Record, error) {
	return a.s.rest(ctx, "authentication.auth_signin", req)
}

// AuthSignup signs a new user up.
func (a *Authentication) AuthSignup(ctx context.Context, req AuthSignupRequest) (Record, error) {
	return a.s.rest(ctx, "authentication.auth_signup", req)
}

// Cache is the key-value cache (CacheApi).
type Cache struct{ s *SDK }

// CacheGet is {value, exists}.
func (c *Cache) CacheGet(ctx context.Context, req CacheGetRequest) (Record, error) {
	return c.s.rest(ctx, "cache.cache_get", req)
}

func (c *Cache) CacheSet(ctx context.Context, req CacheSetRequest) (Record, error) {
	return c.s.rest(ctx, "cache.cache_set", req)
}

func (c *Cache) CacheDelete(ctx context.Context, req CacheDeleteRequest) (Record, error) {
	return c.s.rest(ctx, "cache.cache_delete", req)
}

func (c *Cache) CacheGetMany(ctx context.Context, req CacheGetManyRequest) (Record, error) {
	return c.s.rest(ctx, "cache.cache_get_many", req)
}

func (c *Cache) CacheSetMany(ctx context.Context, req CacheSetManyRequest) (Record, error) {
	return c.s.rest(ctx, "cache.cache_set_many", req)
}

func (c *Cache) CacheDeleteMany(ctx context.Context, req CacheDeleteManyRequest) (Record, error) {
	return c.s.rest(ctx, "cache.cache_delete_many", req)
}

func (c *Cache) CacheList(ctx context.Context, req CacheListRequest) (Record, error) {
	return c.s.rest(ctx, "cache.cache_list", req)
}

func (c *Cache) CacheKeys(ctx context.Context, req CacheKeysRequest) (Record, error) {
	return c.s.rest(ctx, "cache.cache_keys", req)
}

func (c *Cache) CacheFlush(ctx context.Context, req CacheFlushRequest) (Record, error) {
	return c.s.rest(ctx, "cache.cache_flush", req)
}

func (c *Cache) CacheExpire(ctx context.Context, req CacheExpireRequest) (Record, error) {
	return c.s.rest(ctx, "cache.cache_expire", req)
}

func (c *Cache) CacheIncrement(ctx context.Context, req CacheIncrementRequest) (Record, error) {
	return c.s.rest(ctx, "cache.cache_increment", req)
}

// Queue is background jobs (QueueApi).
type Queue struct{ s *SDK }

// QueueEnqueue adds a job: {jobId, success}.
func (q *Queue) QueueEnqueue(ctx context.Context, req QueueEnqueueRequest) (Record, error) {
	return q.s.rest(ctx, "queue.queue_enqueue", req)
}

func (q *Queue) QueueGetJob(ctx context.Context, req QueueGetJobRequest) (Record, error) {
	return q.s.rest(ctx, "queue.queue_get_job", req)
}

func (q *Queue) QueueListJobs(ctx context.Context, req QueueListJobsRequest) (Record, error) {
	return q.s.rest(ctx, "queue.queue_list_jobs", req)
}

func (q *Queue) QueueCancelJob(ctx context.Context, req QueueCancelJobRequest) (Record, error) {
	return q.s.rest(ctx, "queue.queue_cancel_job", req)
}

// Services is service invocation (ServicesApi).
type Services struct{ s *SDK }

func (v *Services) ServicesInvoke(ctx context.Context, req ServicesInvokeRequest) (Record, error) {
	return v.s.rest(ctx, "services.services_invoke", req)
}

// Storage is file storage (StorageApi).
type Storage struct{ s *SDK }

// StorageUpload uploads req.File (streamed) or the file at req.FilePath: {url, key, size, ...}.
func (st *Storage) StorageUpload(ctx context.Context, req StorageUploadRequest) (Record, error) {
	if st.s.err != nil {
		return nil, st.s.err
	}
	r, err := st.s.client.Storage.Upload(ctx, aerostack.UploadInput{
		Key: req.Key, Body: req.File, Path: req.FilePath, ContentType: req.ContentType, Progress: req.Progress,
	})
	if err != nil {
		return nil, err
	}
	out := Record{"url": r.URL, "key": r.Key}
	if r.Size != nil {
		out["size"] = *r.Size
	}
	if r.ContentType != nil {
		out["contentType"] = *r.ContentType
	}
	if r.ETag != nil {
		out["etag"] = *r.ETag
	}
	return out, nil
}

// StorageGet is the object's bytes.
func (st *Storage) StorageGet(ctx context.Context, req StorageKeyRequest) ([]byte, error) {
	if st.s.err != nil {
		return nil, st.s.err
	}
	o, err := st.s.client.Storage.Get(ctx, req.Key)
	if err != nil {
		return nil, err
	}
	return o.Data, nil
}

func (st *Storage) StorageGetUrl(ctx context.Context, req StorageKeyRequest) (Record, error) {
	return st.s.rest(ctx, "storage.storage_get_url", req)
}

func (st *Storage) StorageList(ctx context.Context, req StorageListRequest) (Record, error) {
	return st.s.rest(ctx, "storage.storage_list", req)
}

func (st *Storage) StorageDelete(ctx context.Context, req StorageKeyRequest) (Record, error) {
	return st.s.rest(ctx, "storage.storage_delete", req)
}

func (st *Storage) StorageExists(ctx context.Context, req StorageKeyRequest) (Record, error) {
	return st.s.rest(ctx, "storage.storage_exists", req)
}

func (st *Storage) StorageGetMetadata(ctx context.Context, req StorageKeyRequest) (Record, error) {
	return st.s.rest(ctx, "storage.storage_get_metadata", req)
}

func (st *Storage) StorageCopy(ctx context.Context, req StorageCopyRequest) (Record, error) {
	return st.s.rest(ctx, "storage.storage_copy", req)
}

func (st *Storage) StorageMove(ctx context.Context, req StorageCopyRequest) (Record, error) {
	return st.s.rest(ctx, "storage.storage_move", req)
}

// AI is chat and search (AIApi).
type AI struct{ s *SDK }

// Gateway is the AI gateway (GatewayApi): chat and the wallet as a consumer (the consumer key
// of WithConsumerKey, else AEROSTACK_CONSUMER_KEY), and billing logs with the project key.
type Gateway struct{ s *SDK }

// GatewayChatCompletions is a chat through gateway API apiSlug, billed to the consumer: the
// OpenAI-style answer {choices, usage, ...}.
func (g *Gateway) GatewayChatCompletions(ctx context.Context, apiSlug string, req ChatCompletionRequest) (Record, error) {
	return g.s.restWith(ctx, "gateway.gateway_chat_completions", req, map[string]any{"apiSlug": apiSlug})
}

// GatewayGetWallet is the consumer's wallet (of API apiSlug when not empty): {wallet: {balance, ...}}.
func (g *Gateway) GatewayGetWallet(ctx context.Context, apiSlug string) (Record, error) {
	var params map[string]any
	if apiSlug != "" {
		params = map[string]any{"api_slug": apiSlug}
	}
	return g.s.restWith(ctx, "gateway.gateway_get_wallet", nil, params)
}

// GatewayBillingLog debits a consumer by units the project metered itself: {success, loggedUnits}.
func (g *Gateway) GatewayBillingLog(ctx context.Context, req GatewayBillingLogRequest) (Record, error) {
	return g.s.rest(ctx, "gateway.gateway_billing_log", req)
}

// AiChat is a chat completion: {choices, usage, response, ...}.
func (a *AI) AiChat(ctx context.Context, req ChatCompletionRequest) (Record, error) {
	return a.s.rest(ctx, "ai.ai_chat", req)
}

func (a *AI) Ingest(ctx context.Context, req IngestRequest) (Record, error) {
	return a.s.rest(ctx, "ai.ingest", req)
}

func (a *AI) Query(ctx context.Context, req QueryRequest) (Record, error) {
	return a.s.rest(ctx, "ai.query", req)
}

func (a *AI) Delete(ctx context.Context, req DeleteRequest) (Record, error) {
	return a.s.rest(ctx, "ai.delete", req)
}

func (a *AI) DeleteByType(ctx context.Context, req DeleteByTypeRequest) (Record, error) {
	return a.s.rest(ctx, "ai.delete_by_type", req)
}

func (a *AI) ListTypes(ctx context.Context) (Record, error) {
	return a.s.rest(ctx, "ai.list_types", nil)
}

func (a *AI) Configure(ctx context.Context, req ConfigureRequest) (Record, error) {
	return a.s.rest(ctx, "ai.configure", req)
}

func (a *AI) SearchCount(ctx context.Context, req SearchCountRequest) (Record, error) {
	return a.s.rest(ctx, "ai.search_count", req)
}

func (a *AI) SearchGet(ctx context.Context, req SearchGetRequest) (Record, error) {
	return a.s.rest(ctx, "ai.search_get", req)
}

func (a *AI) SearchUpdate(ctx context.Context, req SearchUpdateRequest) (Record, error) {
	return a.s.rest(ctx, "ai.search_update", req)
}
