//! Refusals: a component reaching beyond its grant, as the host records it.
//!
//! The guest gets an ordinary WASI answer (`access-denied`,
//! `not-permitted`, or what it asked for with the ungranted part left out);
//! the host reports what was refused and to whom to the place
//! [`Options::refusals`](crate::Options::refusals) names, by default one
//! line on its own stderr.

use std::fmt;
use std::io::Write as _;
use std::sync::Arc;

pub use nanoproc_linker::Capability;

/// One attempt of a component to use what its grant does not give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The component the attempt is attributed to, by its name in the
    /// manifest. When the capability came from a grant several components
    /// share (the same narrowing), all of them: one of them made it.
    pub components: Vec<String>,
    /// The capability reached for: [`Capability::Network`],
    /// [`Capability::Dirs`] or [`Capability::Env`] (beyond a narrowing), or
    /// [`Capability::Stdout`] or [`Capability::Stderr`] (not granted).
    pub capability: Capability,
    /// What was attempted, as a phrase: `a TCP connection to
    /// 203.0.113.7:443`, ``opening `../secret.txt` in a granted directory``
    /// (paths exactly as the guest gave them).
    pub attempt: String,
    /// What the guest got instead.
    pub answer: Answer,
}

/// What a guest got for a refused attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The call failed with this WASI error code, in kebab-case
    /// (`access-denied`, `not-permitted`).
    Error(&'static str),
    /// The call went on without it, reporting no error: a datagram or an
    /// incoming connection from an address not granted was dropped.
    Dropped,
    /// The call went on without it, reporting no error: environment
    /// variables not granted were left out of the environment.
    LeftOut,
    /// The call succeeded and what it wrote went nowhere: a write to a
    /// stdout or stderr that was not granted.
    Discarded,
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Error(code) => f.write_str(code),
            Self::Dropped => f.write_str("dropped, no error"),
            Self::LeftOut => f.write_str("left out, no error"),
            Self::Discarded => f.write_str("discarded, no error"),
        }
    }
}

/// `refused `markdown` a TCP connection to 203.0.113.7:443: not in its
/// network grant (access-denied)`, or for a capability that is not
/// narrowed `refused `snoop` writing 6 bytes to stdout: not granted
/// (discarded, no error)`; several components are named as
/// `` `site` or `markdown` ``.
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("refused ")?;
        match self.components.as_slice() {
            [] => f.write_str("the app")?,
            [one] => write!(f, "`{one}`")?,
            [init @ .., last] => {
                let init: Vec<String> = init.iter().map(|c| format!("`{c}`")).collect();
                write!(f, "{} or `{last}`", init.join(", "))?;
            }
        }
        let grant = match self.capability {
            Capability::Network => "network",
            Capability::Dirs => "filesystem",
            Capability::Env => "environment",
            Capability::Http => "http",
            // Not narrowed: refused only when not granted at all.
            _ => return write!(f, " {}: not granted ({})", self.attempt, self.answer),
        };
        write!(
            f,
            " {}: not in its {grant} grant ({})",
            self.attempt, self.answer
        )
    }
}

/// Where the host reports refusals.
#[derive(Clone, Default)]
pub enum Refusals {
    /// On the host process's stderr, each on a line of its own:
    /// `nanoproc: <refusal>`.
    #[default]
    Stderr,
    /// Nowhere.
    Ignore,
    /// To this function, called on the thread the guest runs on, while the
    /// guest waits for its answer.
    Report(Arc<dyn Fn(&Refusal) + Send + Sync>),
}

/// A function refusals are reported to.
type Report = Arc<dyn Fn(&Refusal) + Send + Sync>;

/// The reporting function of [`Refusals`], ready to call.
#[derive(Clone)]
pub(crate) struct Reporter(Option<Report>);

impl Reporter {
    pub(crate) fn new(refusals: &Refusals) -> Self {
        Self(match refusals {
            Refusals::Stderr => Some(Arc::new(|refusal: &Refusal| {
                // A host that cannot write to its stderr has nowhere to say so.
                let _ = writeln!(std::io::stderr().lock(), "nanoproc: {refusal}");
            })),
            Refusals::Ignore => None,
            Refusals::Report(report) => Some(report.clone()),
        })
    }

    /// Reports the refusal `make` makes, if any; `make` is called only
    /// when refusals go somewhere.
    pub(crate) fn report(&self, make: impl FnOnce() -> Option<Refusal>) {
        if let Some(report) = &self.0
            && let Some(refusal) = make()
        {
            report(&refusal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(
        components: &[&str],
        capability: Capability,
        attempt: &str,
        answer: Answer,
    ) -> String {
        Refusal {
            components: components.iter().map(|c| c.to_string()).collect(),
            capability,
            attempt: attempt.into(),
            answer,
        }
        .to_string()
    }

    #[test]
    fn a_refusal_is_one_line_naming_the_component_attempt_grant_and_answer() {
        assert_eq!(
            refusal(
                &["markdown"],
                Capability::Network,
                "a TCP connection to 203.0.113.7:443",
                Answer::Error("access-denied")
            ),
            "refused `markdown` a TCP connection to 203.0.113.7:443: \
             not in its network grant (access-denied)"
        );
        assert_eq!(
            refusal(
                &["site", "markdown"],
                Capability::Dirs,
                "opening `../x` in a granted directory",
                Answer::Error("not-permitted")
            ),
            "refused `site` or `markdown` opening `../x` in a granted directory: \
             not in its filesystem grant (not-permitted)"
        );
        assert_eq!(
            refusal(
                &["a", "b", "c"],
                Capability::Env,
                "2 of the host's environment variables, such as `HOME`",
                Answer::LeftOut
            ),
            "refused `a`, `b` or `c` 2 of the host's environment variables, such as `HOME`: \
             not in its environment grant (left out, no error)"
        );
        assert_eq!(
            refusal(
                &[],
                Capability::Network,
                "a UDP datagram from 192.0.2.1:53",
                Answer::Dropped
            ),
            "refused the app a UDP datagram from 192.0.2.1:53: \
             not in its network grant (dropped, no error)"
        );
    }
}
