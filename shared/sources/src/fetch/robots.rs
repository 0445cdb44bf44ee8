//! robots.txt (RFC 9309): read once per origin and cached for the policy's
//! TTL, obeyed for pricehound's product token.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use url::Url;

use super::{BodyCap, FetchError, Fetcher, MAX_REMEMBERED_HOSTS, RequestOptions, safe_url};

/// The product token robots.txt groups are matched against (case-insensitive).
pub const ROBOTS_USER_AGENT: &str = "pricehound";

/// How much of a robots.txt is read. RFC 9309 §2.5 asks crawlers to parse at
/// least 500 KiB and allows ignoring what follows; reading more would let a
/// hostile site make us parse megabytes on every cold start.
pub const ROBOTS_MAX_BYTES: usize = 500 * 1024;

/// How long "robots.txt could not be fetched" is remembered: short, so a
/// site that was briefly down is read again soon, but long enough that a
/// burst of requests does not refetch it each time.
const ROBOTS_ERROR_TTL: Duration = Duration::from_secs(5 * 60);

pub(super) struct RobotsEntry {
    rules: RobotsRules,
    expires: Instant,
}

enum RobotsRules {
    AllowAll,
    Unavailable(String),
    Parsed(Box<texting_robots::Robot>),
}

impl Fetcher {
    /// Refuses `url` if robots.txt (read once per origin per TTL) says so.
    pub(super) async fn check_robots(
        &self,
        url: &Url,
        opts: &RequestOptions,
    ) -> Result<(), FetchError> {
        if !(self.policy.respect_robots && opts.respect_robots && self.polite_to(url)) {
            return Ok(());
        }
        let Some(robots_url) = robots_url(url) else {
            return Ok(());
        };
        let origin = url.origin().ascii_serialization();
        let cell = {
            let mut map = self.shared.robots.lock().expect("robots lock");
            if !map.contains_key(&origin) && map.len() >= MAX_REMEMBERED_HOSTS {
                let now = Instant::now();
                map.retain(|_, c| {
                    Arc::strong_count(c) > 1
                        || c.try_lock()
                            .map(|e| e.as_ref().is_some_and(|e| e.expires > now))
                            .unwrap_or(true)
                });
            }
            map.entry(origin).or_default().clone()
        };
        let mut entry = cell.lock().await;
        let now = Instant::now();
        if entry.as_ref().is_none_or(|e| e.expires <= now) {
            match self.fetch_robots(&robots_url).await {
                Ok(fetched) => *entry = Some(fetched),
                // Not cached: the refusal is about where the name pointed
                // just now, and it is the page that is refused.
                Err(reason) => {
                    return Err(FetchError::Forbidden {
                        url: safe_url(url),
                        reason,
                    });
                }
            }
        }
        let rules = &entry.as_ref().expect("just filled").rules;
        match rules {
            RobotsRules::AllowAll => Ok(()),
            RobotsRules::Parsed(robot) if robot.allowed(url.as_str()) => Ok(()),
            RobotsRules::Parsed(_) => Err(FetchError::DisallowedByRobots { url: safe_url(url) }),
            RobotsRules::Unavailable(message) => Err(FetchError::RobotsUnavailable {
                url: safe_url(url),
                message: message.clone(),
            }),
        }
    }

    /// RFC 9309 §2.3.1: 2xx → parse; 4xx ("unavailable") → everything
    /// allowed; 5xx or no answer ("unreachable") → everything disallowed until
    /// read again. 429 counts as unreachable too (as Google does): the site is
    /// asking us to slow down, not telling us there are no rules. The one
    /// error is the guard's refusal (its reason), for a fetcher for user links.
    async fn fetch_robots(&self, robots_url: &Url) -> Result<RobotsEntry, String> {
        let now = Instant::now();
        let fetched = self
            .fetch_bytes(
                robots_url,
                Some("text/plain"),
                BodyCap::Truncate(ROBOTS_MAX_BYTES),
            )
            .await;
        let (rules, ttl) = match fetched {
            Ok((_, body)) => (parse_robots(&body, robots_url), self.policy.robots_ttl),
            Err(FetchError::Status { status, .. })
                if (400..500).contains(&status) && status != 429 =>
            {
                (RobotsRules::AllowAll, self.policy.robots_ttl)
            }
            Err(FetchError::Forbidden { reason, .. }) => return Err(reason),
            Err(e) => {
                tracing::warn!(robots = %safe_url(robots_url), error = %e, "robots.txt unavailable, assuming disallowed");
                let message = match e {
                    FetchError::Status { status, .. } => format!("HTTP {status}"),
                    FetchError::Timeout { after, .. } => format!("timed out after {after:?}"),
                    FetchError::RateLimited { retry_after, .. } => {
                        format!("rate limited for {retry_after:?}")
                    }
                    FetchError::Transport { message, .. } => message,
                    other => other.to_string(),
                };
                (
                    RobotsRules::Unavailable(message),
                    ROBOTS_ERROR_TTL.min(self.policy.robots_ttl),
                )
            }
        };
        Ok(RobotsEntry {
            rules,
            expires: now + ttl,
        })
    }
}

/// Parses robots.txt with `texting_robots`: chosen over `robotstxt` (a port
/// of Google's matcher, unreleased since 2021) because it is tested against
/// Google's and reppy's suites plus millions of real files, takes bytes (no
/// UTF-8 requirement), matches the agent token case-insensitively with `*`
/// as the fallback group, and compiles rules to `regex` (linear time, so a
/// hostile pattern cannot blow up matching).
fn parse_robots(body: &[u8], robots_url: &Url) -> RobotsRules {
    // A truncated file may end mid-line; drop the partial line.
    let body = if body.len() >= ROBOTS_MAX_BYTES {
        match body.iter().rposition(|&b| b == b'\n') {
            Some(i) => &body[..=i],
            None => body,
        }
    } else {
        body
    };
    match texting_robots::Robot::new(ROBOTS_USER_AGENT, body) {
        Ok(robot) => RobotsRules::Parsed(Box::new(robot)),
        Err(e) => {
            // No parseable rules: RFC 9309 §2.2 has crawlers use what they can
            // parse, which here is nothing, i.e. no restriction.
            tracing::warn!(robots = %safe_url(robots_url), error = %e, "robots.txt unparseable, treating as allow-all");
            RobotsRules::AllowAll
        }
    }
}

fn robots_url(url: &Url) -> Option<Url> {
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    let mut robots = url.join("/robots.txt").ok()?;
    let _ = robots.set_username("");
    let _ = robots.set_password(None);
    Some(robots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_url_is_the_origins_without_credentials() {
        let u = Url::parse("https://user:hunter2@Shop.Example/a?b=1").unwrap();
        assert_eq!(
            robots_url(&u).unwrap().as_str(),
            "https://shop.example/robots.txt"
        );
        assert!(robots_url(&Url::parse("data:text/plain,x").unwrap()).is_none());
    }

    #[test]
    fn robots_groups_and_truncation() {
        let u = Url::parse("https://s.example/robots.txt").unwrap();
        let allowed = |rules: &RobotsRules, path: &str| match rules {
            RobotsRules::Parsed(r) => r.allowed(path),
            RobotsRules::AllowAll => true,
            RobotsRules::Unavailable(_) => false,
        };
        let r = parse_robots(b"User-agent: *\nDisallow: /private\n", &u);
        assert!(!allowed(&r, "/private/x"));
        assert!(allowed(&r, "/public"));
        let r = parse_robots(
            b"User-agent: *\nAllow: /\n\nUser-agent: PriceHound\nDisallow: /\n",
            &u,
        );
        assert!(!allowed(&r, "/anything"));
        // A rule cut by the size cap is dropped, not half-applied.
        let mut big = b"User-agent: *\nDisallow: /a\n".to_vec();
        big.resize(ROBOTS_MAX_BYTES - 3, b'#');
        big.extend_from_slice(b"\nDisallow: /");
        let r = parse_robots(&big[..ROBOTS_MAX_BYTES], &u);
        assert!(!allowed(&r, "/a"));
        assert!(allowed(&r, "/b"));
    }
}
