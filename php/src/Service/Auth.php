<?php

declare(strict_types=1);

namespace Aerostack\Service;

/** End-user authentication: accounts, sessions, one-time codes, profile. */
final class Auth extends Service
{
    /** Creates an account; `accessToken`, `refreshToken`, `user` (`requiresVerification` when the project wants the email verified first). */
    public function register(string $email, string $password, ?string $name = null, ?array $customFields = null, array $options = []): mixed
    {
        return $this->t->call('auth.register', ['email' => $email, 'password' => $password, 'name' => $name, 'custom_fields' => $customFields], $options);
    }

    /** Signs in with email and password; `accessToken`, `user`. */
    public function login(string $email, string $password, array $options = []): mixed
    {
        return $this->t->call('auth.login', ['email' => $email, 'password' => $password], $options);
    }

    /** The platform's signup (seed 002 name). */
    public function signup(string $email, string $password, ?string $name = null, ?array $metadata = null, array $options = []): mixed
    {
        return $this->t->call('auth.signup', ['email' => $email, 'password' => $password, 'name' => $name, 'metadata' => $metadata], $options);
    }

    /** The platform's signin (seed 002 name). */
    public function signin(string $email, string $password, array $options = []): mixed
    {
        return $this->t->call('auth.signin', ['email' => $email, 'password' => $password], $options);
    }

    /** The user an access token belongs to, or null when the token is invalid or expired. */
    public function verifyToken(string $token, array $options = []): mixed
    {
        return $this->t->call('auth.verify_token', ['token' => $token], $options);
    }

    /** Sends a one-time code to an email address (or phone). */
    public function sendOtp(?string $email = null, ?string $phone = null, array $options = []): mixed
    {
        return $this->t->call('auth.send_otp', ['email' => $email, 'phone' => $phone], $options);
    }

    /** Signs in with a one-time code; the session like `login`. */
    public function verifyOtp(string $code, ?string $email = null, ?string $phone = null, array $options = []): mixed
    {
        return $this->t->call('auth.verify_otp', ['code' => $code, 'email' => $email, 'phone' => $phone], $options);
    }

    /** Confirms an email address with the token from the verification email. */
    public function verifyEmail(string $token, array $options = []): mixed
    {
        return $this->t->call('auth.verify_email', ['token' => $token], $options);
    }

    /** Sends the verification email again. */
    public function resendVerification(string $email, array $options = []): mixed
    {
        return $this->t->call('auth.resend_verification', ['email' => $email], $options);
    }

    /** Sends a password-reset email. */
    public function requestPasswordReset(string $email, array $options = []): mixed
    {
        return $this->t->call('auth.request_password_reset', ['email' => $email], $options);
    }

    /** Sets a new password with the token from the reset email. */
    public function resetPassword(string $token, string $newPassword, array $options = []): mixed
    {
        return $this->t->call('auth.reset_password', ['token' => $token, 'new_password' => $newPassword], $options);
    }

    /** A new session from a refresh token (the old refresh token stops working). */
    public function refresh(string $refreshToken, array $options = []): mixed
    {
        return $this->t->call('auth.refresh', ['refresh_token' => $refreshToken], $options);
    }

    /** Revokes the access token (and the refresh token when given). */
    public function logout(string $accessToken, ?string $refreshToken = null, array $options = []): mixed
    {
        return $this->t->call('auth.logout', ['access_token' => $accessToken, 'refresh_token' => $refreshToken], $options);
    }

    /** The signed-in user's profile. */
    public function me(string $accessToken, array $options = []): mixed
    {
        return $this->t->call('auth.me', ['access_token' => $accessToken], $options);
    }

    /** Updates the signed-in user's profile (`name`, `avatar_url`, custom fields...). */
    public function updateMe(string $accessToken, array $fields, array $options = []): mixed
    {
        return $this->t->call('auth.update_me', ['access_token' => $accessToken, 'fields' => (object) $fields], $options);
    }

    /** Removes the signed-in user's avatar. */
    public function deleteAvatar(string $accessToken, array $options = []): mixed
    {
        return $this->t->call('auth.delete_avatar', ['access_token' => $accessToken], $options);
    }
}
