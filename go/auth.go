package aerostack

import "context"

// Auth is end-user authentication: accounts, sessions, one-time codes, profile.
type Auth struct{ c *Client }

// Register creates an account; the session (AccessToken, RefreshToken, User; RequiresVerification
// and no AccessToken when the project wants the email verified first). name and
// customFields are optional.
func (a *Auth) Register(ctx context.Context, email, password, name string, customFields Record) (*AuthSession, error) {
	ar := args{}.s("email", email).s("password", password).s("name", name)
	if customFields != nil {
		ar["custom_fields"] = customFields
	}
	return call[*AuthSession](ctx, a.c, "auth.register", ar)
}

// Signup creates an account through the legacy /auth/signup (the generated SDK's
// authentication.auth_signup); the session like Register. name and metadata are optional.
func (a *Auth) Signup(ctx context.Context, email, password, name string, metadata Record) (*AuthSession, error) {
	ar := args{}.s("email", email).s("password", password).s("name", name)
	if metadata != nil {
		ar["metadata"] = metadata
	}
	return call[*AuthSession](ctx, a.c, "auth.signup", ar)
}

// Signin signs in through the legacy /auth/signin; the session like Login.
func (a *Auth) Signin(ctx context.Context, email, password string) (*AuthSession, error) {
	return call[*AuthSession](ctx, a.c, "auth.signin", args{}.s("email", email).s("password", password))
}

// Login signs in with email and password; the session (AccessToken, User, ExpiresAt).
func (a *Auth) Login(ctx context.Context, email, password string) (*AuthSession, error) {
	return call[*AuthSession](ctx, a.c, "auth.login", args{}.s("email", email).s("password", password))
}

// SendOTP sends a one-time code to an email address (or a phone).
func (a *Auth) SendOTP(ctx context.Context, email, phone string) (*OTPSent, error) {
	return call[*OTPSent](ctx, a.c, "auth.send_otp", args{}.s("email", email).s("phone", phone))
}

// VerifyOTP signs in with a one-time code; the session like Login.
func (a *Auth) VerifyOTP(ctx context.Context, code, email, phone string) (*AuthSession, error) {
	return call[*AuthSession](ctx, a.c, "auth.verify_otp", args{}.s("code", code).s("email", email).s("phone", phone))
}

// VerifyEmail confirms an email address with the token of the verification email.
func (a *Auth) VerifyEmail(ctx context.Context, token string) (*ActionResult, error) {
	return call[*ActionResult](ctx, a.c, "auth.verify_email", args{}.s("token", token))
}

// ResendVerification sends the verification email again.
func (a *Auth) ResendVerification(ctx context.Context, email string) (*ActionResult, error) {
	return call[*ActionResult](ctx, a.c, "auth.resend_verification", args{}.s("email", email))
}

// RequestPasswordReset sends a password-reset email.
func (a *Auth) RequestPasswordReset(ctx context.Context, email string) (*ActionResult, error) {
	return call[*ActionResult](ctx, a.c, "auth.request_password_reset", args{}.s("email", email))
}

// ResetPassword sets a new password with the token of the reset email.
func (a *Auth) ResetPassword(ctx context.Context, token, newPassword string) (*ActionResult, error) {
	return call[*ActionResult](ctx, a.c, "auth.reset_password", args{}.s("token", token).s("new_password", newPassword))
}

// Refresh is a new session from a refresh token (the old one stops working).
func (a *Auth) Refresh(ctx context.Context, refreshToken string) (*AuthSession, error) {
	return call[*AuthSession](ctx, a.c, "auth.refresh", args{}.s("refresh_token", refreshToken))
}

// Logout revokes the access token (and the refresh token when given).
func (a *Auth) Logout(ctx context.Context, accessToken, refreshToken string) (*ActionResult, error) {
	return call[*ActionResult](ctx, a.c, "auth.logout", args{}.s("access_token", accessToken).s("refresh_token", refreshToken))
}

// Me is the signed-in user's profile.
func (a *Auth) Me(ctx context.Context, accessToken string) (*User, error) {
	return call[*User](ctx, a.c, "auth.me", args{}.s("access_token", accessToken))
}

// UpdateMe updates the signed-in user's profile (name, avatar_url, custom fields...).
func (a *Auth) UpdateMe(ctx context.Context, accessToken string, fields Record) (*User, error) {
	ar := args{}.s("access_token", accessToken)
	if fields != nil {
		ar["fields"] = fields
	}
	return call[*User](ctx, a.c, "auth.update_me", ar)
}

// DeleteAvatar removes the signed-in user's avatar.
func (a *Auth) DeleteAvatar(ctx context.Context, accessToken string) (*ActionResult, error) {
	return call[*ActionResult](ctx, a.c, "auth.delete_avatar", args{}.s("access_token", accessToken))
}

// VerifyToken is the user an access token belongs to, or nil when it is invalid or expired.
func (a *Auth) VerifyToken(ctx context.Context, token string) (*User, error) {
	return call[*User](ctx, a.c, "auth.verify_token", args{}.s("token", token))
}
