# cmdai shell integration for fish: OSC 133 prompt/command markers, OSC 633;E command line, OSC 7 cwd.
# Started as `fish --init-command 'source <this file>'`.
if status is-interactive; and not set -q __cmdai_loaded
    set -g __cmdai_loaded 1
    set -g __cmdai_nonce "$CMDAI_NONCE"
    set -e CMDAI_NONCE

    function __cmdai_escape
        set -l lines (string split \n -- $argv[1])
        set -l escaped (string replace -a '\\' '\\\\' -- $lines | string replace -a ';' '\\x3b' | string replace -a \r '\\x0d' | string replace -a \e '\\x1b' | string replace -a \a '\\x07')
        string join '\\x0a' -- $escaped
    end

    function __cmdai_preexec --on-event fish_preexec
        printf '\e]633;E;%s;%s\a\e]133;C\a' (__cmdai_escape "$argv[1]") $__cmdai_nonce
        set -g __cmdai_running 1
    end

    function __cmdai_postexec --on-event fish_postexec
        set -l ec $status
        if set -q __cmdai_running
            printf '\e]133;D;%s\a' $ec
            set -e __cmdai_running
        end
    end

    function __cmdai_report_cwd --on-event fish_prompt
        set -l p (string replace -a '%' '%25' -- $PWD | string replace -a ' ' '%20')
        printf '\e]7;file://%s%s\a' (prompt_hostname) $p
    end

    # Wrap the prompt so that its start and end are marked.
    if functions -q fish_prompt
        functions -c fish_prompt __cmdai_user_prompt
    else
        function __cmdai_user_prompt
            printf '%s> ' (prompt_pwd)
        end
    end
    function fish_prompt
        printf '\e]133;A\a'
        __cmdai_user_prompt
        printf '\e]133;B\a'
    end
end
