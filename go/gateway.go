package aerostack

import (
	"context"
	"iter"
)

// Gateway is the AI gateway, as a consumer: chat through a gateway API (apiSlug) billed to a
// consumer key (GatewayOptions.ConsumerKey, else Config.ConsumerKey or AEROSTACK_CONSUMER_KEY),
// the consumer's wallet and usage; and BillingLog, with which the project's backend debits a
// consumer itself (the project key).
type Gateway struct{ c *Client }

// GatewayOptions are the optional arguments of a consumer call.
type GatewayOptions struct {
	// ConsumerKey is the consumer key (ask_…) of this call; empty: the client's.
	ConsumerKey string
}

func (o *GatewayOptions) key() string {
	if o == nil {
		return ""
	}
	return o.ConsumerKey
}

// Chat is a chat completion through gateway API apiSlug (Text, Usage, Model, FinishReason).
func (g *Gateway) Chat(ctx context.Context, apiSlug string, req ChatRequest, opts *GatewayOptions) (*ChatResponse, error) {
	return call[*ChatResponse](ctx, g.c, "gateway.chat", req.args().s("api_slug", apiSlug).s("consumer_key", opts.key()))
}

// ChatStream is Chat streamed: chunks with Delta, the last ones FinishReason and Usage.
func (g *Gateway) ChatStream(ctx context.Context, apiSlug string, req ChatRequest, opts *GatewayOptions) iter.Seq2[ChatChunk, error] {
	return streamOf[ChatChunk](ctx, g.c, "gateway.chat_stream", req.args().s("api_slug", apiSlug).s("consumer_key", opts.key()))
}

// Wallet is the consumer's wallet in tokens (of API apiSlug when not empty).
func (g *Gateway) Wallet(ctx context.Context, apiSlug string, opts *GatewayOptions) (*GatewayWallet, error) {
	return call[*GatewayWallet](ctx, g.c, "gateway.wallet", args{}.s("api_slug", apiSlug).s("consumer_key", opts.key()))
}

// Usage is the consumer's usage over the last days days (0: the platform's default, 30).
func (g *Gateway) Usage(ctx context.Context, apiSlug string, days int, opts *GatewayOptions) (*GatewayUsage, error) {
	return call[*GatewayUsage](ctx, g.c, "gateway.usage", args{}.s("api_slug", apiSlug).n("days", days).s("consumer_key", opts.key()))
}

// BillingLog debits units from consumer consumerID of gateway API apiID (the project key);
// metric defaults to "units".
func (g *Gateway) BillingLog(ctx context.Context, consumerID, apiID string, units int, metric string) (*BillingLogged, error) {
	a := args{"consumer_id": consumerID, "api_id": apiID, "units": units}
	return call[*BillingLogged](ctx, g.c, "gateway.billing_log", a.s("metric", metric))
}
