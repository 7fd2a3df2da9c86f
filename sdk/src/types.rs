//! The shared types, with the conveniences a plugin author reaches for.

pub use crate::raw::contacts_world::voxgate::plugin::types::{CallContext, Error, Money};

impl Error {
    /// The thing asked for does not exist.
    pub fn not_found(message: impl Into<String>) -> Error {
        Error::NotFound(message.into())
    }

    /// The request is wrong; asking again the same way will fail again.
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::Invalid(message.into())
    }

    /// The tenant's system cannot be reached right now; a retry may succeed.
    pub fn unavailable(message: impl Into<String>) -> Error {
        Error::Unavailable(message.into())
    }

    /// The request clashes with the current state (out of stock, already shipped).
    pub fn conflict(message: impl Into<String>) -> Error {
        Error::Conflict(message.into())
    }

    /// The caller may not do this.
    pub fn denied(message: impl Into<String>) -> Error {
        Error::Denied(message.into())
    }

    /// Anything else.
    pub fn internal(message: impl Into<String>) -> Error {
        Error::Internal(message.into())
    }
}

impl Money {
    /// `amount` minor units of `currency`: `Money::new(1999, "EUR")` is 19.99 euros.
    pub fn new(amount: i64, currency: impl Into<String>) -> Money {
        Money {
            amount,
            currency: currency.into(),
        }
    }

    /// The amount with two decimals and the currency: `19.99 EUR`. (Currencies with
    /// other minor-unit counts, such as JPY, are shown with two decimals too.)
    pub fn to_text(&self) -> String {
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        format!("{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_text() {
        assert_eq!(Money::new(6497, "EUR").to_text(), "64.97 EUR");
        assert_eq!(Money::new(-5, "USD").to_text(), "-0.05 USD");
    }
}
