//! Splitting long messages into section blocks.

use super::{event, minimal};
use crate::{MAX_SECTIONS, SECTION_LIMIT, TRUNCATION_MARKER, post_body, split_sections};

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn assert_within_limit(sections: &[String]) {
    for (i, s) in sections.iter().enumerate() {
        assert!(
            chars(s) <= SECTION_LIMIT,
            "section {i} has {} chars",
            chars(s)
        );
        assert!(!s.trim().is_empty(), "section {i} is blank");
    }
}

#[test]
fn short_message_is_one_section_without_trailing_newlines() {
    assert_eq!(split_sections("a\n\nb\n\n"), vec!["a\n\nb".to_owned()]);
}

#[test]
fn exactly_the_limit_fits_in_one() {
    let text = "é".repeat(SECTION_LIMIT);
    assert_eq!(split_sections(&text), vec![text]);
}

#[test]
fn splits_at_line_boundaries() {
    // 100 lines of 60 characters (59 + newline): 50 fit in a section.
    let line = format!("{}\n", "ü".repeat(59));
    let text = line.repeat(100);
    let sections = split_sections(&text);
    assert_eq!(sections.len(), 2);
    assert_within_limit(&sections);
    for s in &sections {
        assert!(s.lines().all(|l| chars(l) == 59), "a line was cut");
    }
    // Only the newline at each cut is lost.
    assert_eq!(sections.join("\n"), text.trim_end_matches('\n'));
}

#[test]
fn an_overlong_line_is_hard_split_on_char_boundaries() {
    let text = "🔥".repeat(2 * SECTION_LIMIT + 1000);
    let sections = split_sections(&text);
    let lens: Vec<usize> = sections.iter().map(|s| chars(s)).collect();
    assert_eq!(lens, vec![SECTION_LIMIT, SECTION_LIMIT, 1000]);
    assert_eq!(sections.concat(), text);
}

#[test]
fn overlong_line_between_short_ones() {
    let long = "x".repeat(SECTION_LIMIT + 10);
    let text = format!("head\n{long}\ntail\n");
    let sections = split_sections(&text);
    assert_within_limit(&sections);
    assert_eq!(sections[0], "head");
    assert_eq!(sections[1], "x".repeat(SECTION_LIMIT));
    assert_eq!(sections[2], format!("{}\ntail", "x".repeat(10)));
}

#[test]
fn blank_chunks_are_skipped() {
    let full = "a".repeat(SECTION_LIMIT);
    let text = format!("{full}\n{}\nend", " \n".repeat(SECTION_LIMIT));
    let sections = split_sections(&text);
    assert_within_limit(&sections);
    assert_eq!(sections.first(), Some(&full));
    assert!(sections.last().is_some_and(|s| s.ends_with("end")));
}

#[test]
fn exactly_max_sections_are_not_truncated() {
    let line = format!("{}\n", "ж".repeat(SECTION_LIMIT - 1));
    let sections = split_sections(&line.repeat(MAX_SECTIONS));
    assert_eq!(sections.len(), MAX_SECTIONS);
    assert!(!sections.iter().any(|s| s.contains(TRUNCATION_MARKER)));
}

#[test]
fn too_many_sections_are_truncated_with_a_marker() {
    let line = format!("{}\n", "ж".repeat(SECTION_LIMIT - 1));
    let sections = split_sections(&line.repeat(MAX_SECTIONS + 5));
    assert_eq!(sections.len(), MAX_SECTIONS);
    assert_within_limit(&sections);
    let last = sections.last().expect("sections");
    assert!(last.ends_with(&format!("\n{TRUNCATION_MARKER}")));
    assert_eq!(chars(last), SECTION_LIMIT);
}

#[test]
fn long_message_makes_several_section_blocks() {
    let text = "line of text\n".repeat(1000); // 13,000 characters
    let body = post_body(&text, &event(false, Some("https://ack")), &minimal()).expect("body");
    let blocks = body["attachments"][0]["blocks"].as_array().expect("blocks");
    assert_eq!(blocks.len(), 6, "5 sections and the actions block");
    assert!(blocks[..5].iter().all(|b| b["type"] == "section"));
    assert_eq!(blocks[5]["type"], "actions");
    for b in &blocks[..5] {
        let text = b["text"]["text"].as_str().expect("text");
        assert!(chars(text) <= SECTION_LIMIT);
    }
}
