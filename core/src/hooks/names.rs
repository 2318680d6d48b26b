//! Job-name mapping shared by every language: a worker function named `sendWelcomeEmail` or
//! `send_welcome_email` serves jobs of type `send-welcome-email` (seed 000).

/// The queue job type served by a function named `name`: camelCase and snake_case words become
/// lower-case kebab-case; a name that is already kebab-case is kept.
///
/// ```
/// use aerostack::hooks::job_type_from_function_name as t;
/// assert_eq!(t("sendWelcomeEmail"), "send-welcome-email");
/// assert_eq!(t("send_welcome_email"), "send-welcome-email");
/// assert_eq!(t("SendWelcomeEmail"), "send-welcome-email");
/// assert_eq!(t("send-welcome-email"), "send-welcome-email");
/// assert_eq!(t("parseHTTPResponse"), "parse-http-response");
/// ```
pub fn job_type_from_function_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    let mut out = String::with_capacity(chars.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' || c == '-' || c.is_whitespace() {
            if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
            continue;
        }
        if c.is_uppercase() && i > 0 && !out.is_empty() && !out.ends_with('-') {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // A word starts at aB, at the last capital of an acronym (HTTPResponse), or a1B.
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('-');
            }
        }
        out.extend(c.to_lowercase());
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::job_type_from_function_name as t;

    #[test]
    fn maps_function_names() {
        assert_eq!(t("sendWelcomeEmail"), "send-welcome-email");
        assert_eq!(t("send_welcome_email"), "send-welcome-email");
        assert_eq!(t("__private_job__"), "private-job");
        assert_eq!(t("resize2xImage"), "resize2x-image");
        assert_eq!(t("email"), "email");
    }
}
