use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// An element of Casework that a council can switch on or off (`CASEWORK_FEATURES`). A council
/// that keeps its own case system may run only the plan or the messaging beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    /// The JSON API under `/api/v1`.
    Api,
    Worktray,
    Plan,
    Messaging,
    Intake,
    Open311,
}

impl Feature {
    pub const ALL: [Feature; 6] = [
        Self::Api,
        Self::Worktray,
        Self::Plan,
        Self::Messaging,
        Self::Intake,
        Self::Open311,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Worktray => "worktray",
            Self::Plan => "plan",
            Self::Messaging => "messaging",
            Self::Intake => "intake",
            Self::Open311 => "open311",
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The set of elements switched on. The default is all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Features(BTreeSet<Feature>);

impl Default for Features {
    fn default() -> Self {
        Self(Feature::ALL.into_iter().collect())
    }
}

impl Features {
    pub fn is_on(&self, feature: Feature) -> bool {
        self.0.contains(&feature)
    }

    pub fn iter(&self) -> impl Iterator<Item = Feature> + '_ {
        self.0.iter().copied()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown feature \"{0}\"; the features are api, worktray, plan, messaging, intake, open311"
)]
pub struct UnknownFeature(String);

impl FromStr for Features {
    type Err = UnknownFeature;

    /// A comma-separated list such as `api,plan,messaging`; `all` switches everything on.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut on = BTreeSet::new();
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name == "all" {
                on.extend(Feature::ALL);
                continue;
            }
            let feature = Feature::ALL
                .into_iter()
                .find(|f| f.as_str() == name)
                .ok_or_else(|| UnknownFeature(name.to_owned()))?;
            on.insert(feature);
        }
        Ok(Self(on))
    }
}

impl fmt::Display for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Feature::as_str).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_list_and_all() {
        let features: Features = "api, plan".parse().unwrap();
        assert!(features.is_on(Feature::Api));
        assert!(features.is_on(Feature::Plan));
        assert!(!features.is_on(Feature::Worktray));
        assert_eq!(features.to_string(), "api,plan");
        assert_eq!("all".parse::<Features>().unwrap(), Features::default());
    }

    #[test]
    fn names_an_unknown_feature() {
        let error = "api,plann".parse::<Features>().unwrap_err();
        assert!(error.to_string().contains("\"plann\""));
    }
}
