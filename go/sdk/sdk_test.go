package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
	"github.com/aerostack/aerostack-sdk/go/aerostacktest"
	"github.com/aerostack/aerostack-sdk/go/sdk"
)

// roundTripFunc is an http.RoundTripper from a func.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// checker is a func that fails t on an error and passes the answer through.
func checker(t *testing.T) func(sdk.Record, error) sdk.Record {
	return func(r sdk.Record, err error) sdk.Record {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// Every operation of the sdk-go face against the local platform.
func TestEveryOperation(t *testing.T) {
	// A loopback stand-in for the OpenAI-compatible upstream AI chat goes to.
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("content-type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c1","object":"chat.completion","created":0,"model":"test-model",`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	defer upstream.Close()
	p := aerostacktest.Start(t, aerostack.LocalOptions{Extra: map[string]any{"ai_base_url": upstream.URL + "/v1", "ai_model": "test-model"}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := sdk.New(p.APIKey, sdk.WithServerURL(p.APIURL))
	defer s.Close()
	must := checker(t)

	// Database
	must(s.Database.DbQuery(ctx, sdk.DbQueryRequest{Sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"}))
	must(s.Database.DbBatch(ctx, sdk.DbBatchRequest{Queries: []sdk.DbQueryRequest{
		{Sql: "INSERT INTO t (name) VALUES (?)", Params: []any{"a"}},
		{Sql: "INSERT INTO t (name) VALUES (?)", Params: []any{"b"}},
	}}))
	q := must(s.Database.DbQuery(ctx, sdk.DbQueryRequest{Sql: "SELECT name FROM t WHERE id = ?", Params: []any{2}}))
	if rows := q["results"].([]any); len(rows) != 1 || rows[0].(map[string]any)["name"] != "b" {
		t.Fatalf("db_query: %v", q)
	}

	// Authentication
	up := must(s.Authentication.AuthSignup(ctx, sdk.AuthSignupRequest{Email: "sdk@x.dev", Password: "Sup3rSecret", Name: "S"}))
	if up["token"] == nil && up["accessToken"] == nil {
		t.Fatalf("signup: %v", up)
	}
	in := must(s.Authentication.AuthSignin(ctx, sdk.AuthSigninRequest{Email: "sdk@x.dev", Password: "Sup3rSecret"}))
	if in["user"] == nil {
		t.Fatalf("signin: %v", in)
	}
	_, err := s.Authentication.AuthSignin(ctx, sdk.AuthSigninRequest{Email: "sdk@x.dev", Password: "Wr0ngSecret"})
	if !errors.Is(err, aerostack.ErrAuth) {
		t.Fatalf("a wrong password: %v", err)
	}

	// Gateway: a gateway API and a consumer through the local management routes.
	c, _ := s.Client()
	if _, err := c.Request(ctx, "POST", "/local/gateway/apis", map[string]any{"slug": "sdk-bot"}); err != nil {
		t.Fatal(err)
	}
	con, err := c.Request(ctx, "POST", "/local/gateway/keys", map[string]any{"api_slug": "sdk-bot", "credits": 100})
	if err != nil {
		t.Fatal(err)
	}
	cm := con.(map[string]any)
	var sent atomic.Int64
	counted := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	gs := sdk.New(p.APIKey, sdk.WithServerURL(p.APIURL), sdk.WithConsumerKey(cm["key"].(string)), sdk.WithHTTPClient(counted))
	defer gs.Close()
	gchat := must(gs.Gateway.GatewayChatCompletions(ctx, "sdk-bot", sdk.ChatCompletionRequest{Messages: []sdk.ChatMessage{{Role: "user", Content: "hi"}}}))
	if fmt.Sprint(gchat["usage"].(map[string]any)["total_tokens"]) != "2" {
		t.Fatalf("gateway chat: %v", gchat)
	}
	must(gs.Gateway.GatewayBillingLog(ctx, sdk.GatewayBillingLogRequest{ConsumerID: cm["consumer_id"].(string), APIID: cm["api_id"].(string), Units: 8}))
	w := must(gs.Gateway.GatewayGetWallet(ctx, "sdk-bot"))["wallet"].(map[string]any)
	if fmt.Sprint(w["balance"]) != "90" {
		t.Fatalf("gateway wallet: %v", w)
	}
	if sent.Load() != 3 {
		t.Fatalf("WithHTTPClient sent %d of the 3 gateway requests", sent.Load())
	}
	if _, err := s.Gateway.GatewayGetWallet(ctx, "sdk-bot"); !errors.Is(err, aerostack.ErrValidation) {
		t.Fatalf("no consumer key: %v", err)
	}

	// Cache
	must(s.Cache.CacheSet(ctx, sdk.CacheSetRequest{Key: "k", Value: map[string]any{"n": 1}, Ttl: sdk.PtrInt64(60)}))
	if g := must(s.Cache.CacheGet(ctx, sdk.CacheGetRequest{Key: "k"})); g["exists"] != true || g["value"].(map[string]any)["n"] != float64(1) {
		t.Fatalf("cache_get: %v", g)
	}
	must(s.Cache.CacheSetMany(ctx, sdk.CacheSetManyRequest{Entries: []sdk.CacheSetManyRequestEntriesInner{{Key: "m1", Value: 1}, {Key: "m2", Value: 2}}}))
	if g := must(s.Cache.CacheGetMany(ctx, sdk.CacheGetManyRequest{Keys: []string{"m1", "m2"}})); len(g["results"].([]any)) != 2 {
		t.Fatalf("cache_get_many: %v", g)
	}
	if l := must(s.Cache.CacheList(ctx, sdk.CacheListRequest{Prefix: "m"})); len(l["keys"].([]any)) != 2 {
		t.Fatalf("cache_list: %v", l)
	}
	if k := must(s.Cache.CacheKeys(ctx, sdk.CacheKeysRequest{})); len(k["keys"].([]any)) != 3 {
		t.Fatalf("cache_keys: %v", k)
	}
	must(s.Cache.CacheExpire(ctx, sdk.CacheExpireRequest{Key: "k", Ttl: 120}))
	if n := must(s.Cache.CacheIncrement(ctx, sdk.CacheIncrementRequest{Key: "n", Amount: sdk.PtrInt64(5), InitialValue: sdk.PtrInt64(10)})); n["value"] != float64(15) {
		t.Fatalf("cache_increment: %v", n)
	}
	must(s.Cache.CacheDelete(ctx, sdk.CacheDeleteRequest{Key: "k"}))
	if d := must(s.Cache.CacheDeleteMany(ctx, sdk.CacheDeleteManyRequest{Keys: []string{"m1", "zz"}})); d["deleted"] != float64(1) {
		t.Fatalf("cache_delete_many: %v", d)
	}
	must(s.Cache.CacheFlush(ctx, sdk.CacheFlushRequest{}))
	if k := must(s.Cache.CacheKeys(ctx, sdk.CacheKeysRequest{})); len(k["keys"].([]any)) != 0 {
		t.Fatalf("after flush: %v", k)
	}

	// Queue
	e := must(s.Queue.QueueEnqueue(ctx, sdk.QueueEnqueueRequest{Type: "later", Data: map[string]any{"x": 1}, Delay: sdk.PtrInt64(3600)}))
	id, _ := e["jobId"].(string)
	if j := must(s.Queue.QueueGetJob(ctx, sdk.QueueGetJobRequest{JobId: id})); j["exists"] != true {
		t.Fatalf("queue_get_job: %v", j)
	}
	if l := must(s.Queue.QueueListJobs(ctx, sdk.QueueListJobsRequest{Type: "later"})); len(l["jobs"].([]any)) != 1 {
		t.Fatalf("queue_list_jobs: %v", l)
	}
	if c := must(s.Queue.QueueCancelJob(ctx, sdk.QueueCancelJobRequest{JobId: id})); c["success"] != true {
		t.Fatalf("queue_cancel_job: %v", c)
	}

	// Storage
	up2 := must(s.Storage.StorageUpload(ctx, sdk.StorageUploadRequest{Key: "a/b.txt", File: strings.NewReader("hello"), ContentType: "text/plain"}))
	if up2["url"] == "" {
		t.Fatalf("storage_upload: %v", up2)
	}
	if b, err := s.Storage.StorageGet(ctx, sdk.StorageKeyRequest{Key: "a/b.txt"}); err != nil || string(b) != "hello" {
		t.Fatalf("storage_get: %q %v", b, err)
	}
	must(s.Storage.StorageGetUrl(ctx, sdk.StorageKeyRequest{Key: "a/b.txt"}))
	if x := must(s.Storage.StorageExists(ctx, sdk.StorageKeyRequest{Key: "a/b.txt"})); x["exists"] != true {
		t.Fatalf("storage_exists: %v", x)
	}
	if m := must(s.Storage.StorageGetMetadata(ctx, sdk.StorageKeyRequest{Key: "a/b.txt"})); m["size"] != float64(5) {
		t.Fatalf("storage_get_metadata: %v", m)
	}
	must(s.Storage.StorageCopy(ctx, sdk.StorageCopyRequest{SourceKey: "a/b.txt", DestKey: "a/c.txt"}))
	must(s.Storage.StorageMove(ctx, sdk.StorageCopyRequest{SourceKey: "a/c.txt", DestKey: "a/d.txt"}))
	if l := must(s.Storage.StorageList(ctx, sdk.StorageListRequest{Prefix: "a/"})); len(l["objects"].([]any)) != 2 {
		t.Fatalf("storage_list: %v", l)
	}
	must(s.Storage.StorageDelete(ctx, sdk.StorageKeyRequest{Key: "a/d.txt"}))
	_, err = s.Storage.StorageGet(ctx, sdk.StorageKeyRequest{Key: "a/d.txt"})
	if !errors.Is(err, aerostack.ErrNotFound) {
		t.Fatalf("a deleted object: %v", err)
	}

	// AI
	chat := must(s.AI.AiChat(ctx, sdk.ChatCompletionRequest{Messages: []sdk.ChatMessage{{Role: "user", Content: "hi"}}}))
	if chat["choices"] == nil || !strings.Contains(fmt.Sprint(chat["choices"]), "hello") {
		t.Fatalf("ai_chat: %v", chat)
	}
	must(s.AI.Configure(ctx, sdk.ConfigureRequest{EmbeddingModel: "english"}))
	must(s.AI.Ingest(ctx, sdk.IngestRequest{Id: "d1", Content: "red shoes", Type: "product"}))
	must(s.AI.Ingest(ctx, sdk.IngestRequest{Id: "d2", Content: "blue hat", Type: "faq"}))
	if r := must(s.AI.Query(ctx, sdk.QueryRequest{Text: "shoes", TopK: sdk.PtrInt32(1)})); len(r["results"].([]any)) != 1 {
		t.Fatalf("query: %v", r)
	}
	must(s.AI.SearchUpdate(ctx, sdk.SearchUpdateRequest{Id: "d1", Content: "green shoes", Type: "product"}))
	if g := must(s.AI.SearchGet(ctx, sdk.SearchGetRequest{Id: "d1"})); g["exists"] != true {
		t.Fatalf("search_get: %v", g)
	}
	if c := must(s.AI.SearchCount(ctx, sdk.SearchCountRequest{})); c["count"] != float64(2) {
		t.Fatalf("search_count: %v", c)
	}
	if lt := must(s.AI.ListTypes(ctx)); len(lt["types"].([]any)) != 2 {
		t.Fatalf("list_types: %v", lt)
	}
	must(s.AI.Delete(ctx, sdk.DeleteRequest{Id: "d1"}))
	must(s.AI.DeleteByType(ctx, sdk.DeleteByTypeRequest{Type: "faq"}))
	if c := must(s.AI.SearchCount(ctx, sdk.SearchCountRequest{})); c["count"] != float64(0) {
		t.Fatalf("search_count after deletes: %v", c)
	}

	// Services: no service of that name is served.
	_, err = s.Services.ServicesInvoke(ctx, sdk.ServicesInvokeRequest{ServiceName: "nobody", Data: map[string]any{}})
	if !errors.Is(err, aerostack.ErrServer) {
		t.Fatalf("services_invoke of a missing service: %v", err)
	}
}

func TestErrorsAndConfig(t *testing.T) {
	p := aerostacktest.Start(t)
	ctx := context.Background()
	bad := sdk.New("sk_wrong", sdk.WithServerURL(p.APIURL), sdk.WithRetryConfig(aerostack.NoRetry()))
	_, err := bad.Cache.CacheGet(ctx, sdk.CacheGetRequest{Key: "k"})
	if !errors.Is(err, aerostack.ErrAuth) {
		t.Fatalf("a wrong key: %v", err)
	}
	broken := sdk.New("k", sdk.WithServerURL("not a url"))
	if _, err := broken.Database.DbQuery(ctx, sdk.DbQueryRequest{Sql: "SELECT 1"}); !errors.Is(err, aerostack.ErrConfig) {
		t.Fatalf("a malformed URL: %v", err)
	}
	s := sdk.New(p.APIKey, sdk.WithServerURL(p.APIURL))
	_, err = s.Database.DbQuery(ctx, sdk.DbQueryRequest{Sql: "SELEC nonsense"})
	if !errors.Is(err, aerostack.ErrValidation) && !errors.Is(err, aerostack.ErrServer) {
		t.Fatalf("bad SQL: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Database.DbQuery(cctx, sdk.DbQueryRequest{Sql: "SELECT 1"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled context: %v", err)
	}
}

// Every JSON operation of the surface's REST table has its Go method (group struct, CamelCase).
func TestEveryRestOperationHasAMethod(t *testing.T) {
	src, err := os.ReadFile("../../bindings/common/src/rest.rs")
	if err != nil {
		t.Fatal(err)
	}
	s := sdk.New("k")
	groups := map[string]any{"ai": s.AI, "authentication": s.Authentication, "cache": s.Cache,
		"database": s.Database, "queue": s.Queue, "services": s.Services, "storage": s.Storage, "gateway": s.Gateway}
	ops := regexp.MustCompile(`op\("([a-z]+)", "([a-z_]+)"`).FindAllStringSubmatch(string(src), -1)
	for _, m := range regexp.MustCompile(`consumer\("([a-z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		ops = append(ops, []string{m[0], "gateway", m[1]})
	}
	if len(ops) < 30 {
		t.Fatalf("parsed %d operations from rest.rs", len(ops))
	}
	for _, m := range ops {
		name := ""
		for _, part := range strings.Split(m[2], "_") {
			name += strings.ToUpper(part[:1]) + part[1:]
		}
		g, ok := groups[m[1]]
		if !ok {
			t.Errorf("no group %s on sdk.SDK", m[1])
			continue
		}
		if _, ok := reflect.TypeOf(g).MethodByName(name); !ok {
			t.Errorf("%s.%s has no method %T.%s", m[1], m[2], g, name)
		}
	}
}
