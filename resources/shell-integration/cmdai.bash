# cmdai shell integration for bash. Started as `bash --init-file <this file> -i`.
# Emits OSC 133 (prompt, command start/end with exit code), OSC 633;E (the command line, with a
# per-launch nonce so program output cannot forge it) and OSC 7 (the working directory).

# --init-file replaces the usual start-up files: load the user's own first.
if [ -n "${CMDAI_SHELL_LOGIN-}" ]; then
  unset CMDAI_SHELL_LOGIN
  [ -r /etc/profile ] && . /etc/profile
  if [ -r "$HOME/.bash_profile" ]; then . "$HOME/.bash_profile"
  elif [ -r "$HOME/.bash_login" ]; then . "$HOME/.bash_login"
  elif [ -r "$HOME/.profile" ]; then . "$HOME/.profile"
  fi
else
  [ -r /etc/bash.bashrc ] && . /etc/bash.bashrc
  [ -r "$HOME/.bashrc" ] && . "$HOME/.bashrc"
fi

if [[ $- == *i* ]] && [ -z "${__cmdai_loaded-}" ]; then
  __cmdai_loaded=1
  __cmdai_nonce="${CMDAI_NONCE-}"
  unset CMDAI_NONCE
  __cmdai_running=0
  __cmdai_armed=0
  __cmdai_histnum=

  __cmdai_escape() {
    local s="$1"
    s="${s//\\/\\\\}"
    s="${s//;/\\x3b}"
    s="${s//$'\n'/\\x0a}"
    s="${s//$'\r'/\\x0d}"
    s="${s//$'\e'/\\x1b}"
    s="${s//$'\a'/\\x07}"
    builtin printf '%s' "$s"
  }

  __cmdai_encode_path() {
    local p="$1"
    p="${p//%/%25}"
    p="${p// /%20}"
    p="${p//$'\a'/%07}"
    p="${p//$'\e'/%1B}"
    p="${p//$'\n'/%0A}"
    builtin printf '%s' "$p"
  }

  __cmdai_last_history() {
    local entry
    entry="$(HISTTIMEFORMAT='' builtin history 1 2>/dev/null)"
    if [[ $entry =~ ^[[:space:]]*([0-9]+)[*]?[[:space:]]+(.*)$ ]]; then
      __cmdai_hist_number="${BASH_REMATCH[1]}"
      __cmdai_hist_text="${BASH_REMATCH[2]}"
    else
      __cmdai_hist_number=
      __cmdai_hist_text=
    fi
  }

  # DEBUG trap: runs before every simple command; acts only on the first one after a prompt.
  __cmdai_preexec() {
    [ "$__cmdai_armed" = 1 ] || return 0
    [ -n "${COMP_LINE-}" ] && return 0
    __cmdai_armed=0
    # An empty line runs PROMPT_COMMAND straight away: that is no command of the user's.
    case "$BASH_COMMAND" in __cmdai_precmd*) return 0 ;; esac
    local cmd="$BASH_COMMAND"
    __cmdai_last_history
    if [ -n "$__cmdai_hist_number" ] && [ "$__cmdai_hist_number" != "$__cmdai_histnum" ]; then
      cmd="$__cmdai_hist_text"
    fi
    builtin printf '\e]633;E;%s;%s\a\e]133;C\a' "$(__cmdai_escape "$cmd")" "$__cmdai_nonce"
    __cmdai_running=1
  }

  __cmdai_precmd() {
    local ec=$?
    __cmdai_armed=0
    if [ "$__cmdai_running" = 1 ]; then
      builtin printf '\e]133;D;%s\a' "$ec"
      __cmdai_running=0
    fi
    builtin printf '\e]7;file://%s%s\a' "${HOSTNAME-}" "$(__cmdai_encode_path "$PWD")"
    return $ec
  }

  # Runs last in PROMPT_COMMAND so that the user's own prompt hooks are not taken for a command.
  __cmdai_arm() {
    local ec=$?
    __cmdai_last_history
    __cmdai_histnum="$__cmdai_hist_number"
    case "$PS1" in
      *'133;A'*) ;;
      *) PS1="\[\e]133;A\a\]${PS1}\[\e]133;B\a\]" ;;
    esac
    __cmdai_armed=1
    return $ec
  }

  if [[ "$(declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
    PROMPT_COMMAND=(__cmdai_precmd "${PROMPT_COMMAND[@]}" __cmdai_arm)
  else
    # Tools such as pyenv leave a trailing ';' (`hook;`): trim it so that `;;` cannot happen.
    __cmdai_pc="${PROMPT_COMMAND-}"
    while [[ $__cmdai_pc == *[\;[:space:]] ]]; do __cmdai_pc="${__cmdai_pc%?}"; done
    PROMPT_COMMAND="__cmdai_precmd${__cmdai_pc:+; $__cmdai_pc}; __cmdai_arm"
    unset __cmdai_pc
  fi
  trap '__cmdai_preexec' DEBUG
fi
