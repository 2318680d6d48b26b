package aerostack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
)

// The Go type each result type of the surface's user-data table decodes into. Event types
// (realtime.event, realtime.presence_event, worker.invocation, gateway.socket_event) are
// RealtimeEvent, Event and GatewaySocketEvent, which keep the whole event in Raw.
var resultTypes = map[string]any{
	"db.query": aerostack.QueryResult{}, "db.query_one": aerostack.Record{}, "db.batch": aerostack.BatchResult{},
	"auth.signup": aerostack.AuthSession{}, "auth.signin": aerostack.AuthSession{},
	"auth.register": aerostack.AuthSession{}, "auth.login": aerostack.AuthSession{},
	"auth.send_otp": aerostack.OTPSent{}, "auth.verify_otp": aerostack.AuthSession{},
	"auth.verify_email": aerostack.ActionResult{}, "auth.resend_verification": aerostack.ActionResult{},
	"auth.request_password_reset": aerostack.ActionResult{}, "auth.reset_password": aerostack.ActionResult{},
	"auth.refresh": aerostack.AuthSession{}, "auth.logout": aerostack.ActionResult{},
	"auth.me": aerostack.User{}, "auth.update_me": aerostack.User{}, "auth.delete_avatar": aerostack.ActionResult{},
	"auth.verify_token": aerostack.User{},
	// Set answers nothing (only an error).
	"cache.get": any(nil), "cache.set": struct{}{}, "cache.has": false, "cache.delete": false,
	"cache.get_many": map[string]any{}, "cache.set_many": int64(0), "cache.delete_many": aerostack.DeleteManyResult{},
	"cache.list": aerostack.CacheListPage{}, "cache.keys": []string{}, "cache.flush": int64(0),
	"cache.expire": false, "cache.increment": int64(0), "cache.list_all": aerostack.CacheKey{},
	"db.collection.list": aerostack.CollectionPage{}, "db.collection.list_all": aerostack.CollectionItem{},
	"db.collection.get": aerostack.CollectionItem{}, "db.collection.create": aerostack.CollectionItem{},
	"db.collection.update": aerostack.CollectionItem{}, "db.collection.delete": false,
	"gateway.chat": aerostack.ChatResponse{}, "gateway.chat_stream": aerostack.ChatChunk{},
	"gateway.wallet": aerostack.GatewayWallet{}, "gateway.usage": aerostack.GatewayUsage{},
	"gateway.billing_log": aerostack.BillingLogged{},
	"queue.enqueue":       aerostack.EnqueueResult{}, "queue.send": aerostack.EnqueueResult{},
	"queue.job": aerostack.JobRecord{}, "queue.jobs": aerostack.JobsPage{}, "queue.cancel": aerostack.CancelResult{},
	"queue.wait": aerostack.JobRecord{}, "queue.jobs_all": aerostack.JobRecord{},
	"storage.upload": aerostack.UploadResult{}, "storage.get_url": "", "storage.list": aerostack.StoragePage{},
	"storage.delete": false, "storage.exists": false, "storage.metadata": aerostack.ObjectInfo{},
	"storage.copy": "", "storage.move": "", "storage.list_all": aerostack.ObjectInfo{},
	"ai.chat": aerostack.ChatResponse{}, "ai.complete": aerostack.Completion{}, "ai.embed": aerostack.Embedding{},
	"ai.chat_stream": aerostack.ChatChunk{}, "ai.search.ingest": aerostack.IngestResult{},
	"ai.search.query": []aerostack.SearchResult{}, "ai.search.get": aerostack.SearchResult{},
	"ai.search.update": false, "ai.search.delete": false, "ai.search.delete_by_type": false,
	"ai.search.list_types": []aerostack.TypeCount{}, "ai.search.count": int64(0), "ai.search.configure": false,
	// A secret is a string by definition (Get answers it with ok).
	"secrets.get": "", "secrets.set": struct{}{}, "secrets.list": []string{},
	"services.invoke": aerostack.InvokeResult{}, "call": any(nil), "request": any(nil),
	// The REST face (go/sdk) keeps the wire shapes.
	"rest":             map[string]any{},
	"realtime.history": []aerostack.HistoryMessage{}, "realtime.emit": aerostack.EmitResult{},
	"local.outbox": []aerostack.OutboxMessage{}, "local.workers": aerostack.ServedNow{},
	"local.wait_served": aerostack.ServedNow{}, "realtime.publish": aerostack.PublishAck{},
	"realtime.presence": []aerostack.PresenceEntry{},
	"gateway.socket_chat": aerostack.GatewaySocketChat{},
}

var eventTypes = map[string]bool{"realtime.event": true, "realtime.presence_event": true, "worker.invocation": true,
	"gateway.socket_event": true}

var (
	anyType  = reflect.TypeFor[any]()
	rawType  = reflect.TypeFor[json.RawMessage]()
	timeType = reflect.TypeFor[time.Time]()
)

// open says whether t holds JSON of any shape (the user's data): any, a map of any,
// json.RawMessage, or a list of those (rows).
func open(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == anyType || t == rawType:
		return true
	case t.Kind() == reflect.Map:
		return t.Elem() == anyType
	case t.Kind() == reflect.Slice:
		return open(t.Elem())
	}
	return false
}

// walkResult checks that t is open exactly at the user-data paths: a field the SDK owns is a
// typed Go field (so a new key fails the strict decoding), the user's data is never a struct.
func walkResult(t reflect.Type, path string, user map[string]bool, seen map[string]bool, problems *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if user[path] {
		seen[path] = true
		if !open(t) && !(path == "" && t.Kind() == reflect.String) {
			*problems = append(*problems, "user data at "+q(path)+" is "+t.String()+", not Record/any/json.RawMessage")
		}
		return
	}
	if open(t) {
		*problems = append(*problems, "an SDK-owned value at "+q(path)+" is untyped ("+t.String()+")")
		return
	}
	switch {
	case t == timeType:
	case t.Kind() == reflect.Slice:
		walkResult(t.Elem(), path+"[]", user, seen, problems)
	case t.Kind() == reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				*problems = append(*problems, t.String()+"."+f.Name+" has no json tag")
				continue
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			walkResult(f.Type, p, user, seen, problems)
		}
	}
}

func q(p string) string { return `"` + p + `"` }

// The result structs and the surface's user-data table agree: every result type has a Go type,
// Record/any exactly at its user-data paths, typed fields (with json tags) everywhere else.
func TestResultStructsFollowUserData(t *testing.T) {
	for op, paths := range aerostack.UserDataPaths() {
		if eventTypes[op] {
			continue
		}
		v, ok := resultTypes[op]
		if !ok {
			t.Errorf("%s: the surface has this result type; give it a Go type in resultTypes (results.go)", op)
			continue
		}
		typ := reflect.TypeOf(&v).Elem()
		if v != nil {
			typ = reflect.TypeOf(v)
		}
		user, seen := map[string]bool{}, map[string]bool{}
		for _, p := range paths {
			user[p] = true
		}
		var problems []string
		walkResult(typ, "", user, seen, &problems)
		for _, p := range paths {
			if !seen[p] {
				problems = append(problems, "user-data path "+q(p)+" is not a field")
			}
		}
		if len(problems) > 0 {
			t.Errorf("%s (%s): %s", op, typ, strings.Join(problems, "; "))
		}
	}
}

// weird is user data whose keys are not Go or snake_case names: it must come back as stored.
func weird() aerostack.Record {
	return aerostack.Record{"Weird-Key": 1.0, "camelKey": map[string]any{"Nested Key": []any{map[string]any{"x-y": true}}}, "user_id": "u"}
}

// Every typed method against the local platform, with the tests' strict decoding (export_test.go:
// a key the structs do not know, outside the user's data, fails the call), and user data with
// keys no struct could hold coming back as stored.
func TestResultTypesMatchTheSurface(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := newClient(t)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	same := func(what string, got any) {
		t.Helper()
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(weird())
		if string(g) != string(w) {
			t.Fatalf("%s: the user's data came back as %s, not %s", what, g, w)
		}
	}

	// Database
	_, err := c.DB.Query(ctx, `CREATE TABLE ud (id INTEGER PRIMARY KEY, "Weird-Key" TEXT)`)
	must("db.query", err)
	res, err := c.DB.Query(ctx, `INSERT INTO ud (id, "Weird-Key") VALUES (1, 'a')`)
	must("db.query insert", err)
	if res.Meta == nil || res.Meta.Changes != 1 || res.Meta.LastRowID != 1 {
		t.Fatalf("db.query meta: %+v", res.Meta)
	}
	res, err = c.DB.Query(ctx, `SELECT id, "Weird-Key", 2 AS camelCase FROM ud`)
	must("db.query select", err)
	if res.Count != 1 || res.Results[0]["Weird-Key"] != "a" || res.Results[0]["camelCase"] != 2.0 {
		t.Fatalf("db.query rows: %+v", res)
	}
	b, err := c.DB.Batch(ctx, []aerostack.Statement{{SQL: `SELECT 1 AS "Weird-Key"`}})
	must("db.batch", err)
	if !b.Success || b.Results[0].Results[0]["Weird-Key"] != 1.0 {
		t.Fatalf("db.batch: %+v", b)
	}

	// Auth
	s, err := c.Auth.Register(ctx, "ud@example.com", "Pw-12345678", "U", weird())
	must("auth.register", err)
	same("register custom_fields", s.User.CustomFields)
	_, err = c.Auth.Login(ctx, "ud@example.com", "Pw-12345678")
	must("auth.login", err)
	me, err := c.Auth.Me(ctx, *s.AccessToken)
	must("auth.me", err)
	same("me custom_fields", me.CustomFields)
	_, err = c.Auth.VerifyToken(ctx, *s.AccessToken)
	must("auth.verify_token", err)
	_, err = c.Auth.UpdateMe(ctx, *s.AccessToken, aerostack.Record{"name": "V"})
	must("auth.update_me", err)
	_, err = c.Auth.Refresh(ctx, *s.RefreshToken)
	must("auth.refresh", err)
	su, err := c.Auth.Signup(ctx, "ud2@example.com", "Pw-12345678", "", weird())
	must("auth.signup", err)
	if su.User != nil && su.User.Metadata != nil {
		same("signup metadata", su.User.Metadata)
	}
	_, err = c.Auth.Signin(ctx, "ud2@example.com", "Pw-12345678")
	must("auth.signin", err)
	_, err = c.Auth.SendOTP(ctx, "ud@example.com", "")
	must("auth.send_otp", err)
	box, err := c.Local.Outbox(ctx, "ud@example.com", 0)
	must("local.outbox", err)
	if len(box) == 0 || box[0].Code == nil {
		t.Fatalf("no OTP in the outbox: %+v", box)
	}
	_, err = c.Auth.VerifyOTP(ctx, *box[0].Code, "ud@example.com", "")
	must("auth.verify_otp", err)
	_, err = c.Auth.ResendVerification(ctx, "ud@example.com")
	must("auth.resend_verification", err)
	_, err = c.Auth.RequestPasswordReset(ctx, "ud@example.com")
	must("auth.request_password_reset", err)
	box, err = c.Local.Outbox(ctx, "ud@example.com", 0)
	must("local.outbox", err)
	for _, m := range box {
		if m.Kind == "password_reset" && m.Token != nil {
			_, err = c.Auth.ResetPassword(ctx, *m.Token, "Pw-87654321")
			must("auth.reset_password", err)
			break
		}
	}
	for _, m := range box {
		if m.Kind == "verify_email" && m.Token != nil {
			_, err = c.Auth.VerifyEmail(ctx, *m.Token)
			must("auth.verify_email", err)
			break
		}
	}
	s2, err := c.Auth.Login(ctx, "ud@example.com", "Pw-87654321")
	must("auth.login after reset", err)
	_, err = c.Auth.DeleteAvatar(ctx, *s2.AccessToken)
	must("auth.delete_avatar", err)
	_, err = c.Auth.Logout(ctx, *s2.AccessToken, "")
	must("auth.logout", err)

	// Cache
	must("cache.set", c.Cache.Set(ctx, "ud:1", weird(), time.Hour))
	v, err := c.Cache.Get(ctx, "ud:1")
	must("cache.get", err)
	same("cache.get", v)
	_, err = c.Cache.SetMany(ctx, []aerostack.CacheEntry{{Key: "ud:n", Value: 1}})
	must("cache.set_many", err)
	many, err := c.Cache.GetMany(ctx, []string{"ud:1"})
	must("cache.get_many", err)
	same("cache.get_many", many["ud:1"])
	page, err := c.Cache.List(ctx, "ud:", 0, "")
	must("cache.list", err)
	if len(page.Keys) != 2 {
		t.Fatalf("cache.list: %+v", page)
	}
	for _, err := range c.Cache.ListAll(ctx, "ud:", 1) {
		must("cache.list_all", err)
	}
	_, err = c.Cache.DeleteMany(ctx, []string{"ud:n"})
	must("cache.delete_many", err)

	// Collections
	col := c.DB.Collection("ud")
	item, err := col.Create(ctx, weird())
	must("db.collection.create", err)
	same("db.collection.create data", item.Data)
	item, err = col.Update(ctx, item.ID, weird())
	must("db.collection.update", err)
	got, err := col.Get(ctx, item.ID)
	must("db.collection.get", err)
	same("db.collection.get data", got.Data)
	if got.CreatedAt == nil || got.CreatedAt.IsZero() {
		t.Fatalf("db.collection.get: no created_at: %+v", got)
	}
	cp, err := col.List(ctx, aerostack.CollectionQuery{Limit: 1})
	must("db.collection.list", err)
	same("db.collection.list data", cp.Items[0].Data)
	for it, err := range col.ListAll(ctx, aerostack.CollectionQuery{Filter: map[string]any{"user_id": "u"}}) {
		must("db.collection.list_all", err)
		same("db.collection.list_all data", it.Data)
	}
	if gone, err := col.Delete(ctx, item.ID); err != nil || !gone {
		t.Fatalf("db.collection.delete: %v %v", gone, err)
	}
	if gone, err := col.Delete(ctx, item.ID); err != nil || gone {
		t.Fatalf("db.collection.delete twice: %v %v", gone, err)
	}
	if missing, err := col.Get(ctx, item.ID); err != nil || missing != nil {
		t.Fatalf("db.collection.get of a deleted item: %+v %v", missing, err)
	}
	if _, err := c.DB.Collection("bad name").Create(ctx, map[string]any{}); !errors.Is(err, aerostack.ErrValidation) {
		t.Fatalf("a bad collection name: %v", err)
	}

	// Queue (no worker: the job stays queued), storage
	sent, err := c.Queue.Send(ctx, "ud-job", weird(), &aerostack.EnqueueOptions{DelaySeconds: 3600})
	must("queue.send", err)
	job, err := c.Queue.Job(ctx, sent.JobID)
	must("queue.job", err)
	same("queue.job data", job.Data)
	jobs, err := c.Queue.Jobs(ctx, aerostack.JobFilter{Type: "ud-job"})
	must("queue.jobs", err)
	same("queue.jobs data", jobs.Jobs[0].Data)
	for _, err := range c.Queue.JobsAll(ctx, aerostack.JobFilter{Type: "ud-job"}) {
		must("queue.jobs_all", err)
	}
	_, err = c.Queue.Cancel(ctx, sent.JobID)
	must("queue.cancel", err)
	_, err = c.Storage.Upload(ctx, aerostack.UploadInput{Key: "ud/a.txt", Body: strings.NewReader("a")})
	must("storage.upload", err)
	_, err = c.Storage.Metadata(ctx, "ud/a.txt")
	must("storage.metadata", err)
	_, err = c.Storage.List(ctx, "ud/", 0, "")
	must("storage.list", err)
	for _, err := range c.Storage.ListAll(ctx, "ud/", 0) {
		must("storage.list_all", err)
	}

	// AI: chat and completions through a platform whose model server is an OpenAI-compatible
	// stand-in (the upstream is a third party's; the platform and engine are the real ones).
	ai := aiClient(t)
	chat, err := ai.AI.Chat(ctx, aerostack.ChatRequest{Messages: []aerostack.Message{{Role: "user", Content: "hi"}}})
	must("ai.chat", err)
	if chat.Text != "hello there" || chat.Usage == nil || chat.Usage.TotalTokens != 5 {
		t.Fatalf("ai.chat: %+v", chat)
	}
	var streamed strings.Builder
	for chunk, err := range ai.AI.ChatStream(ctx, aerostack.ChatRequest{Messages: []aerostack.Message{{Role: "user", Content: "hi"}}}) {
		must("ai.chat_stream", err)
		streamed.WriteString(chunk.Delta)
	}
	if streamed.String() != "hello there" {
		t.Fatalf("ai.chat_stream: %q", streamed.String())
	}
	_, err = ai.AI.Complete(ctx, "hi", nil)
	must("ai.complete", err)
	_, err = ai.AI.Search.Configure(ctx, "english")
	must("ai.search.configure", err)
	_, err = c.AI.Embed(ctx, "hi")
	must("ai.embed", err)
	_, err = c.AI.Search.Ingest(ctx, "Refunds within 30 days", "ud", "ud-1", weird())
	must("ai.search.ingest", err)
	hits, err := c.AI.Search.Query(ctx, "refunds", &aerostack.SearchQuery{Types: []string{"ud"}})
	must("ai.search.query", err)
	if len(hits) == 0 {
		t.Fatal("ai.search.query found nothing")
	}
	same("ai.search.query metadata", hits[0].Metadata)
	doc, err := c.AI.Search.Get(ctx, "ud-1")
	must("ai.search.get", err)
	same("ai.search.get metadata", doc.Metadata)
	_, err = c.AI.Search.ListTypes(ctx)
	must("ai.search.list_types", err)

	// Realtime, local
	emitted, err := c.Socket.Emit(ctx, "note", weird(), "ud")
	must("realtime.emit", err)
	if emitted.Topic == "" {
		t.Fatalf("realtime.emit: %+v", emitted)
	}
	ch := c.Realtime.Channel("ud")
	must("subscribe", ch.Subscribe(ctx))
	must("track", ch.Track(weird()))
	_, err = ch.Publish(ctx, "note", weird(), &aerostack.PublishOptions{Persist: true})
	must("realtime.publish", err)
	hist, err := ch.History(ctx, 10, time.Time{})
	must("realtime.history", err)
	if len(hist) == 0 {
		t.Fatal("realtime.history is empty")
	}
	same("realtime.history data", hist[0].Data)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if p := ch.Presence(); len(p) > 0 {
			same("presence state", p[0].State)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no presence")
		}
	}
	_, err = c.Local.Workers(ctx)
	must("local.workers", err)
}

// aiClient is a client of a platform whose AI server is an OpenAI-compatible stand-in answering
// "hello there" (in two chunks when streamed).
func aiClient(t *testing.T) *aerostack.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Stream bool `json:"stream"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		usage := `"usage":{"prompt_tokens":2,"completion_tokens":3,"total_tokens":5}`
		if !req.Stream {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"c1","model":"stand-in","choices":[{"index":0,"message":{"role":"assistant","content":"hello there"},"finish_reason":"stop"}],%s}`, usage)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, d := range []string{"hello", " there"} {
			fmt.Fprintf(w, "data: {\"id\":\"c1\",\"model\":\"stand-in\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", d)
		}
		fmt.Fprintf(w, "data: {\"id\":\"c1\",\"model\":\"stand-in\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],%s}\n\ndata: [DONE]\n\n", usage)
	}))
	t.Cleanup(srv.Close)
	p, err := aerostack.StartLocal(aerostack.LocalOptions{Extra: map[string]any{"ai_base_url": srv.URL + "/v1", "ai_model": "stand-in"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	c, err := p.Client()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
