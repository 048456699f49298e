//! [`parsed_once`]: a channel's config parsed once per instance.
//!
//! The host passes a destination's config text on every call, and keeps an
//! instance for many calls (`calls_per_instance`). Parsing the same text
//! again each time is work with a known answer, so the last successful
//! parse is kept with the text it came from and reused while the text is
//! the same. A different text (another destination, or a per-delivery
//! `reply_to`) is parsed and replaces it; a text that fails to parse is
//! parsed again next time, so its error is always reported.

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use super::Error;

thread_local! {
    /// The last parse that succeeded, with its text.
    static LAST: RefCell<Option<(String, Rc<dyn Any>)>> = const { RefCell::new(None) };
}

/// `parse(config_json)`, or the value it gave for the same text on an
/// earlier call of this instance.
///
/// # Errors
///
/// Whatever `parse` returns for this text.
pub fn parsed_once<T: 'static>(
    config_json: &str,
    parse: fn(&str) -> Result<T, Error>,
) -> Result<Rc<T>, Error> {
    let kept = LAST.with_borrow(|last| {
        let (text, value) = last.as_ref()?;
        if !crate::same_text(text, config_json) {
            return None;
        }
        value.clone().downcast::<T>().ok()
    });
    if let Some(value) = kept {
        return Ok(value);
    }
    let value = Rc::new(parse(config_json)?);
    LAST.set(Some((config_json.to_owned(), value.clone())));
    Ok(value)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    thread_local! {
        static PARSES: Cell<u32> = const { Cell::new(0) };
    }

    fn counting(text: &str) -> Result<String, Error> {
        PARSES.set(PARSES.get() + 1);
        if text.starts_with('{') {
            Ok(text.to_uppercase())
        } else {
            Err(Error::Config(format!("not an object: {text}")))
        }
    }

    #[test]
    fn the_same_text_is_parsed_once_and_a_new_text_again() {
        let a = parsed_once(r#"{"a":1}"#, counting).expect("parses");
        let again = parsed_once(r#"{"a":1}"#, counting).expect("parses");
        assert_eq!(*a, r#"{"A":1}"#);
        assert!(Rc::ptr_eq(&a, &again));
        assert_eq!(PARSES.get(), 1);

        let b = parsed_once(r#"{"b":2}"#, counting).expect("parses");
        assert_eq!(*b, r#"{"B":2}"#);
        assert_eq!(PARSES.get(), 2);
        // Only the last text is kept.
        parsed_once(r#"{"a":1}"#, counting).expect("parses");
        assert_eq!(PARSES.get(), 3);
    }

    #[test]
    fn a_failed_parse_is_reported_every_time_and_not_kept() {
        for _ in 0..2 {
            let err = parsed_once("nope", counting).expect_err("fails");
            assert_eq!(err, Error::Config("not an object: nope".into()));
        }
        assert_eq!(PARSES.get(), 2);
        parsed_once("{}", counting).expect("parses");
        assert!(parsed_once("nope", counting).is_err());
        assert_eq!(PARSES.get(), 4);
    }

    #[test]
    fn a_kept_value_of_another_type_is_not_mistaken_for_this_one() {
        fn length(text: &str) -> Result<usize, Error> {
            Ok(text.len())
        }
        parsed_once("{}", counting).expect("parses");
        assert_eq!(*parsed_once("{}", length).expect("parses"), 2);
        assert_eq!(PARSES.get(), 1);
    }
}
