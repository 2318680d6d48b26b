package aerostack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	aerostack "github.com/aerostack/aerostack-sdk/go"
	"github.com/aerostack/aerostack-sdk/go/aerostacktest"
)

// fakeUpstream is an OpenAI-compatible stand-in for the AI provider (a third party): a fixed
// answer echoing the last message, as JSON or as SSE.
func fakeUpstream(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Stream   bool `json:"stream"`
			Messages []struct {
				Content string `json:"content"`
			} `json:"messages"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		text := "echo: " + body.Messages[len(body.Messages)-1].Content
		if body.Stream {
			w.Header().Set("Content-Type", "text/event-stream")
			for _, word := range strings.Split(text, " ") {
				fmt.Fprintf(w, "data: {\"choices\":[{\"delta\":{\"content\":%q}}]}\n\n", word+" ")
			}
			fmt.Fprint(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":2,\"total_tokens\":4}}\n\ndata: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c1","object":"chat.completion","choices":[{"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`, text)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

func TestGatewayConsumer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := aerostacktest.Start(t, aerostack.LocalOptions{Extra: map[string]any{"ai_base_url": fakeUpstream(t), "ai_model": "test-model"}})
	c := p.Client(t)
	slug := fmt.Sprintf("go-%d", time.Now().UnixNano())
	if _, err := c.Request(ctx, "POST", "/local/gateway/apis", map[string]any{"slug": slug}); err != nil {
		t.Fatal(err)
	}
	raw, err := c.Request(ctx, "POST", "/local/gateway/keys", map[string]any{"api_slug": slug, "credits": 100})
	if err != nil {
		t.Fatal(err)
	}
	con := raw.(map[string]any)
	key := con["key"].(string)
	gw, err := aerostack.New(aerostack.Config{ProjectID: p.ProjectID, APIKey: p.APIKey, BaseURL: p.APIURL, ConsumerKey: key, IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []aerostack.Message{{Role: "user", Content: "hi"}}
	answer, err := gw.Gateway.Chat(ctx, slug, aerostack.ChatRequest{Messages: msgs}, nil)
	if err != nil || answer.Text != "echo: hi" || answer.Usage == nil || answer.Usage.TotalTokens != 5 {
		t.Fatalf("chat: %+v %v", answer, err)
	}
	var streamed strings.Builder
	for chunk, err := range c.Gateway.ChatStream(ctx, slug, aerostack.ChatRequest{Messages: msgs}, &aerostack.GatewayOptions{ConsumerKey: key}) {
		if err != nil {
			t.Fatal(err)
		}
		streamed.WriteString(chunk.Delta)
	}
	if strings.TrimSpace(streamed.String()) != "echo: hi" {
		t.Fatalf("stream: %q", streamed.String())
	}
	w, err := gw.Gateway.Wallet(ctx, slug, nil)
	if err != nil || w.Balance != 91 || w.TotalPurchased != 100 || w.TotalConsumed != 9 {
		t.Fatalf("wallet: %+v %v", w, err)
	}
	u, err := gw.Gateway.Usage(ctx, slug, 7, nil)
	if err != nil || u.TotalTokens != 9 || u.TotalRequests != 2 || len(u.Days) != 1 {
		t.Fatalf("usage: %+v %v", u, err)
	}
	logged, err := c.Gateway.BillingLog(ctx, con["consumer_id"].(string), con["api_id"].(string), 91, "")
	if err != nil || !logged.Success || logged.LoggedUnits != 91 {
		t.Fatalf("billing log: %+v %v", logged, err)
	}
	_, err = gw.Gateway.Chat(ctx, slug, aerostack.ChatRequest{Messages: msgs}, nil)
	var ae *aerostack.Error
	if !errors.As(err, &ae) || ae.Code != "INSUFFICIENT_CREDITS" || ae.Status != 402 {
		t.Fatalf("out of credits: %v", err)
	}
	if _, err := c.Gateway.Wallet(ctx, "", nil); !errors.Is(err, aerostack.ErrValidation) {
		t.Fatalf("no consumer key: %v", err)
	}
}
