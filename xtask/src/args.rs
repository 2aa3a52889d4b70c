//! The arguments of `cargo xtask fuzz` and `cargo xtask bench`, and the
//! `--flag VALUE` / `--flag=VALUE` reader `compare`'s parser shares.

use crate::fuzz;

/// The arguments of `cargo xtask fuzz` (see [`fuzz::USAGE`]).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FuzzArgs {
    /// One target, or all of them.
    pub target: Option<String>,
    /// `--time SECS`.
    pub time: Option<u64>,
    /// `--jobs N`.
    pub jobs: Option<u16>,
    /// `--smoke`.
    pub smoke: bool,
}

impl FuzzArgs {
    /// Parses the arguments after `fuzz` (`--flag VALUE` or `--flag=VALUE`).
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut parsed = FuzzArgs::default();
        let mut args = Args::new(args);
        while let Some((arg, flag, inline)) = args.next_arg() {
            let mut value = || args.value(flag, inline.clone());
            match flag {
                "--smoke" if inline.is_none() => parsed.smoke = true,
                "--time" => parsed.time = Some(positive(flag, &value()?)?),
                "--jobs" => parsed.jobs = Some(positive(flag, &value()?)?),
                _ if arg.starts_with('-') => return Err(format!("unknown argument `{arg}`")),
                _ if parsed.target.is_some() => {
                    return Err(format!("one target at most (got a second, `{arg}`)"));
                }
                _ => parsed.target = Some(arg.clone()),
            }
        }
        Ok(parsed)
    }

    /// Seconds of fuzzing per target.
    pub fn seconds(&self) -> u64 {
        self.time.unwrap_or(if self.smoke {
            fuzz::SMOKE_SECS
        } else {
            fuzz::DEFAULT_SECS
        })
    }
}

/// The arguments of a task, read as `--flag VALUE` or `--flag=VALUE`.
pub struct Args<'a> {
    rest: std::slice::Iter<'a, String>,
}

impl<'a> Args<'a> {
    pub fn new(args: &'a [String]) -> Self {
        Self { rest: args.iter() }
    }

    /// The next argument, its flag (the part before a `=` for `--flag=…`,
    /// else the whole argument) and its inline value (after the `=`).
    pub fn next_arg(&mut self) -> Option<(&'a String, &'a str, Option<String>)> {
        let arg = self.rest.next()?;
        Some(match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (arg, flag, Some(value.to_owned())),
            _ => (arg, arg.as_str(), None),
        })
    }

    /// The value of `flag`: its inline value, else the next argument.
    pub fn value(&mut self, flag: &str, inline: Option<String>) -> Result<String, String> {
        inline
            .or_else(|| self.rest.next().cloned())
            .ok_or(format!("{flag} needs a value"))
    }
}

/// `value` as a whole number > 0, or an error naming `flag`.
pub fn positive<T: std::str::FromStr + Default + PartialOrd>(
    flag: &str,
    value: &str,
) -> Result<T, String> {
    match value.parse() {
        Ok(n) if n > T::default() => Ok(n),
        _ => Err(format!("{flag} takes a whole number > 0, not `{value}`")),
    }
}

/// The arguments of `cargo xtask bench` (see [`bench::USAGE`](crate::bench::USAGE)).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BenchArgs {
    /// `--quick`.
    pub quick: bool,
}

impl BenchArgs {
    /// Parses the arguments after `bench`.
    pub fn parse(args: &[String]) -> Result<Self, String> {
        match args.iter().find(|arg| *arg != "--quick") {
            Some(arg) => Err(format!("unknown argument `{arg}`")),
            None => Ok(BenchArgs {
                quick: !args.is_empty(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<FuzzArgs, String> {
        FuzzArgs::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn fuzz_flags_parse() {
        assert_eq!(parse(&[]).unwrap(), FuzzArgs::default());
        assert_eq!(parse(&[]).unwrap().seconds(), 60);
        let smoke = parse(&["--smoke"]).unwrap();
        assert!(smoke.smoke && smoke.seconds() == 30);
        let all = parse(&["store_ops", "--time", "5", "--jobs=2", "--smoke"]).unwrap();
        assert_eq!(all.target.as_deref(), Some("store_ops"));
        assert_eq!((all.time, all.jobs, all.seconds()), (Some(5), Some(2), 5));
        assert_eq!(parse(&["--time=7"]).unwrap().time, Some(7));
    }

    #[test]
    fn bad_fuzz_flags_are_refused() {
        for bad in [
            &["--time"][..],
            &["--time", "0"],
            &["--time", "soon"],
            &["--jobs", "-1"],
            &["--jobs", "70000"],
            &["--fast"],
            &["a", "b"],
            &["--smoke=yes"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn bench_flags_parse() {
        let parse =
            |a: &[&str]| BenchArgs::parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(parse(&[]), Ok(BenchArgs { quick: false }));
        assert_eq!(parse(&["--quick"]), Ok(BenchArgs { quick: true }));
        assert!(parse(&["--slow"]).is_err());
    }
}
