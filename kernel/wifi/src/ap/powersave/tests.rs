//! Behaviour tests of `ap::powersave`.

use super::super::harness::*;
