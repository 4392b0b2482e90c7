#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# check_manpages.sh - hold each man page to the options its tool prints
#
# Usage: doc/check_manpages.sh NETSTACKD NETSTACK_PCAP DOCDIR
#
# A tool's usage text and its page are written by hand in two places; this
# keeps them from drifting apart. For each tool, what it prints as its usage
# (--help, and for netstack-pcap each command's own usage) is compared with
# its page, DOCDIR/TOOL.N.scd:
#
# - an option the usage defines (first on a line of an option list, or in
#   [brackets] on a usage line) must be an option term of the page, spelled
#   as the usage spells it: "--listen-qemu PATH" is *--listen-qemu* _PATH_;
# - an option the usage only mentions must be mentioned by the page;
# - every option the page names must be one the usage prints, so that a
#   removed option leaves the page too. --help and --version are exempt if
#   the tool accepts them (tried here): a usage need not list itself.
# - scdoc must turn the page into a man page without an error.
#
# SCDOC names the scdoc to run (default: the one on PATH).
set -euo pipefail

SCDOC=${SCDOC:-scdoc}
LONG_OPT='--[a-z0-9][a-z0-9-]*'
failures=0

fail() {
    echo "check_manpages: $*" >&2
    failures=$((failures + 1))
}

# commands_of NAME USAGE: the commands a "usage: NAME COMMAND ..." block lists
commands_of() {
    awk -v tool="$1" '
        tolower($1) == "usage:" { block = 1; if ($2 == tool && $3 ~ /^[a-z]+$/) print $3; next }
        block && $1 == tool && $2 ~ /^[a-z]+$/ { print $2; next }
        { block = 0 }' <<<"$2" | sort -u
}

# command_usage TOOL COMMAND: the command's --help or, for a command without
# one, the usage line it prints when given nothing (the only list of its
# options); fails if it prints neither
command_usage() {
    local out
    if out=$("$1" "$2" --help </dev/null 2>/dev/null); then
        printf '%s\n' "$out"
        return 0
    fi
    out=$("$1" "$2" </dev/null 2>&1 || true)
    grep -i '^usage:' <<<"$out"
}

# usage_text TOOL: everything TOOL prints as its usage; fails if it cannot say
usage_text() {
    local top cmd
    top=$("$1" --help </dev/null) || return 1
    printf '%s\n' "$top"
    for cmd in $(commands_of "$(basename "$1")" "$top"); do
        command_usage "$1" "$cmd" || { echo "no usage from '$cmd'" >&2; return 1; }
    done
}

# defined_options TEXT: "--opt" or "--opt ARG", a line each, for every option
# TEXT defines: "  -v, --verbose   ...", "  --mtu N   ...", "[--json]"
defined_options() {
    local line re="^[[:space:]]*(-[[:alnum:]], )?($LONG_OPT)( ([A-Z][^[:space:]]*))?"
    while IFS= read -r line; do
        if [[ $line =~ $re ]]; then
            echo "${BASH_REMATCH[2]}${BASH_REMATCH[4]:+ ${BASH_REMATCH[4]}}"
        fi
    done <<<"$1"
    grep -oE "\[$LONG_OPT( [A-Z][^][[:space:]]*)?\]" <<<"$1" | tr -d '[]' || true
}

# option_names: the option of each "--opt ARG" line on stdin, once each
option_names() { awk '$1 ~ /^--/ { print $1 }' | sort -u; }

# mentioned_options TEXT: every long option TEXT names, once each
mentioned_options() { { grep -oE -e "$LONG_OPT" <<<"$1" || true; } | sort -u; }

# page_text PAGE: the page without its comment lines
page_text() { grep -v '^; ' "$1" || true; }

# page_terms PAGE: the page's option terms (the lines that begin with "*-"),
# formatting removed, one spelling a line: "*-v*, *--verbose*" gives "-v"
# and "--verbose", "*--mtu* _N_" gives "--mtu N"
page_terms() {
    { grep -E '^\*-' "$1" || true; } |
        sed -E 's/(^|[^[:alnum:]])_/\1/g; s/_([^[:alnum:]]|$)/\1/g; s/, /\n/g' | tr -d '*\\'
}

# accepts TOOL OPT: --help and --version, which a usage need not list, work
accepts() {
    case $2 in
    --help | --version) "$1" "$2" </dev/null >/dev/null 2>&1 ;;
    *) return 1 ;;
    esac
}

# check_defined LABEL DEFINED TERMS: each option the usage defines is a term
check_defined() {
    local s opt arg
    while IFS= read -r s; do
        [ -n "$s" ] || continue
        grep -qxF -e "$s" <<<"$3" && continue
        opt=${s%% *}
        arg=${s#"$opt"}
        fail "$1: '$s' is in the usage, but no option term of the page spells it" \
            "so (expected a line '*$opt*${arg:+ _${arg# }_}')"
    done <<<"$2"
}

# check_mentioned LABEL HELP_ONLY PAGE_OPTS: options the usage only mentions
# are mentioned by the page
check_mentioned() {
    local o
    for o in $2; do
        grep -qxF -e "$o" <<<"$3" || fail "$1: $o is in the usage but not in the page"
    done
}

# check_page_options LABEL TOOL USAGE_OPTS DEFINED_NAMES PAGE_OPTS PAGE_NAMES:
# everything the page names is in the usage, and what it lists as an option
# the usage defines as one
check_page_options() {
    local o
    for o in $5; do
        grep -qxF -e "$o" <<<"$3" || accepts "$2" "$o" ||
            fail "$1: $o is in the page, but not in the usage $(basename "$2") prints"
    done
    for o in $6; do
        grep -qxF -e "$o" <<<"$3" || continue   # reported above
        grep -qxF -e "$o" <<<"$4" || accepts "$2" "$o" ||
            fail "$1: $o is an option term of the page, but the usage does not define it"
    done
}

# check_scdoc LABEL PAGE: the page is valid scdoc
check_scdoc() {
    local err
    if ! err=$("$SCDOC" <"$2" 2>&1 >/dev/null); then
        fail "$1: scdoc: ${err:-failed}"
    fi
}

# check_tool TOOL DOCDIR: one tool against its page
check_tool() {
    local tool=$1 name usage defined terms page_opts usage_opts label pages before=$failures
    name=$(basename "$tool")
    pages=("$2/$name".[1-9].scd)
    if [ ! -f "${pages[0]}" ]; then
        fail "$name: no page $2/$name.N.scd"
        return
    fi
    label=$(basename "${pages[0]}")
    if ! usage=$(usage_text "$tool"); then
        fail "$label: $name does not print its usage"
        return
    fi
    defined=$(defined_options "$usage" | sort -u)
    terms=$(page_terms "${pages[0]}")
    usage_opts=$(mentioned_options "$usage")
    page_opts=$(mentioned_options "$(page_text "${pages[0]}")")
    check_defined "$label" "$defined" "$terms"
    check_mentioned "$label" "$(comm -23 <(echo "$usage_opts") <(option_names <<<"$defined"))" \
        "$page_opts"
    check_page_options "$label" "$tool" "$usage_opts" "$(option_names <<<"$defined")" \
        "$page_opts" "$(option_names <<<"$terms")"
    check_scdoc "$label" "${pages[0]}"
    if [ "$failures" -eq "$before" ]; then
        echo "check_manpages: $label: $(wc -w <<<"$page_opts") long options, as $name prints them"
    fi
}

main() {
    [ $# -eq 3 ] || { echo "usage: $0 NETSTACKD NETSTACK_PCAP DOCDIR" >&2; exit 2; }
    check_tool "$1" "$3"
    check_tool "$2" "$3"
    [ "$failures" -eq 0 ] || { echo "check_manpages: $failures problem(s)" >&2; exit 1; }
}

main "$@"
