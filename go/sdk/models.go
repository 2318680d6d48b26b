package sdk

import "io"

// The request models of the generated operations: the REST API's wire fields.

type DbQueryRequest struct {
	Sql    string `json:"sql"`
	Params []any  `json:"params,omitempty"`
}

type DbBatchRequest struct {
	Queries []DbQueryRequest `json:"queries"`
}

type AuthSigninRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type AuthSignupRequest struct {
	Email    string         `json:"email"`
	Password string         `json:"password"`
	Name     string         `json:"name,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

type CacheGetRequest struct {
	Key string `json:"key"`
}

type CacheSetRequest struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
	// Ttl in seconds (nil: no expiry).
	Ttl *int64 `json:"ttl,omitempty"`
}

type CacheDeleteRequest struct {
	Key string `json:"key"`
}

type CacheGetManyRequest struct {
	Keys []string `json:"keys"`
}

type CacheSetManyRequestEntriesInner struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
	Ttl   *int64 `json:"ttl,omitempty"`
}

type CacheSetManyRequest struct {
	Entries []CacheSetManyRequestEntriesInner `json:"entries"`
}

type CacheDeleteManyRequest struct {
	Keys []string `json:"keys"`
}

type CacheListRequest struct {
	Prefix string `json:"prefix,omitempty"`
	Limit  *int32 `json:"limit,omitempty"`
	Cursor string `json:"cursor,omitempty"`
}

type CacheKeysRequest struct {
	Prefix string `json:"prefix,omitempty"`
}

type CacheFlushRequest struct {
	Prefix string `json:"prefix,omitempty"`
}

type CacheExpireRequest struct {
	Key string `json:"key"`
	Ttl int64  `json:"ttl"`
}

type CacheIncrementRequest struct {
	Key          string `json:"key"`
	Amount       *int64 `json:"amount,omitempty"`
	InitialValue *int64 `json:"initialValue,omitempty"`
	Ttl          *int64 `json:"ttl,omitempty"`
}

type QueueEnqueueRequest struct {
	Type string `json:"type"`
	Data any    `json:"data"`
	// Delay in seconds.
	Delay *int64 `json:"delay,omitempty"`
}

type QueueGetJobRequest struct {
	JobId string `json:"jobId"`
}

type QueueListJobsRequest struct {
	Status string `json:"status,omitempty"`
	Type   string `json:"type,omitempty"`
	Limit  *int32 `json:"limit,omitempty"`
	Cursor string `json:"cursor,omitempty"`
}

type QueueCancelJobRequest struct {
	JobId string `json:"jobId"`
}

type ServicesInvokeRequest struct {
	ServiceName string `json:"serviceName"`
	Data        any    `json:"data"`
}

// StorageKeyRequest names an object (getUrl, delete, exists, getMetadata, get).
type StorageKeyRequest struct {
	Key string `json:"key"`
}

type StorageListRequest struct {
	Prefix string `json:"prefix,omitempty"`
	Limit  *int32 `json:"limit,omitempty"`
	Cursor string `json:"cursor,omitempty"`
}

type StorageCopyRequest struct {
	SourceKey string `json:"sourceKey"`
	DestKey   string `json:"destKey"`
}

// StorageUploadRequest is the multipart upload: File (a reader) or FilePath (streamed from disk).
type StorageUploadRequest struct {
	Key         string
	File        io.Reader
	FilePath    string
	ContentType string
	// Progress is called with the bytes sent so far and the total (-1 when unknown).
	Progress func(sent, total int64)
}

type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type ChatCompletionRequest struct {
	Messages    []ChatMessage `json:"messages"`
	Model       string        `json:"model,omitempty"`
	Temperature *float64      `json:"temperature,omitempty"`
	MaxTokens   *int32        `json:"max_tokens,omitempty"`
	TopP        *float64      `json:"top_p,omitempty"`
}

// GatewayBillingLogRequest debits a consumer of a gateway API by units it metered.
type GatewayBillingLogRequest struct {
	ConsumerID string  `json:"consumerId"`
	APIID      string  `json:"apiId"`
	Units      int64   `json:"units"`
	Metric     *string `json:"metric,omitempty"`
}

type IngestRequest struct {
	Content  string         `json:"content"`
	Type     string         `json:"type"`
	Id       string         `json:"id,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

type QueryRequest struct {
	Text   string         `json:"text"`
	TopK   *int32         `json:"topK,omitempty"`
	Types  []string       `json:"types,omitempty"`
	Filter map[string]any `json:"filter,omitempty"`
}

type DeleteRequest struct {
	Id string `json:"id"`
}

type DeleteByTypeRequest struct {
	Type string `json:"type"`
}

type ConfigureRequest struct {
	// EmbeddingModel is english or multilingual.
	EmbeddingModel string `json:"embeddingModel"`
}

type SearchCountRequest struct {
	Type string `json:"type,omitempty"`
}

type SearchGetRequest struct {
	Id string `json:"id"`
}

type SearchUpdateRequest struct {
	Id       string         `json:"id"`
	Content  string         `json:"content"`
	Type     string         `json:"type,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// PtrInt64 and friends make the optional fields: sdk.PtrInt64(60).
func PtrInt64(v int64) *int64       { return &v }
func PtrInt32(v int32) *int32       { return &v }
func PtrFloat64(v float64) *float64 { return &v }
