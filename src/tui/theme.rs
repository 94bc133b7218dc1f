//! Colours, or none when `NO_COLOR` is set (<https://no-color.org>): then only bold, reverse
//! and underline tell things apart.

use ratatui::style::{Color, Modifier, Style};

use crate::model::Severity;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty.
    pub fn from_env() -> Theme {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn plain(&self) -> Style {
        Style::default()
    }

    pub fn bold(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }

    pub fn header(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    pub fn tab_active(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    pub fn status(&self, code: Option<u16>) -> Style {
        match code {
            Some(100..=199) => self.fg(Color::Blue),
            Some(200..=299) => self.fg(Color::Green),
            Some(300..=399) => self.fg(Color::Cyan),
            Some(400..=499) => self.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            Some(500..=599) => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            _ => self.fg(Color::Magenta),
        }
    }

    pub fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Error => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Severity::Warning => self.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            Severity::Info => self.fg(Color::Blue),
        }
    }

    /// A hop-by-hop header.
    pub fn hop(&self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
    }

    pub fn client(&self) -> Style {
        self.fg(Color::Red)
    }

    pub fn server(&self) -> Style {
        self.fg(Color::Blue)
    }

    pub fn gap(&self) -> Style {
        self.fg(Color::Black)
            .bg(if self.color {
                Color::Yellow
            } else {
                Color::Reset
            })
            .add_modifier(Modifier::BOLD)
    }

    pub fn boundary(&self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }

    pub fn search_hit(&self) -> Style {
        if self.color {
            Style::default().bg(Color::Yellow).fg(Color::Black)
        } else {
            Style::default().add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
        }
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
}
