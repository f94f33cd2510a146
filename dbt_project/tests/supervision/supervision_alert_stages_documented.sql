-- The alert stages of reference.supervision_stage_limits are the three that fct_alert_handling
-- documents (its stage column). fct_alert_handling's stages are those of this seed whose
-- object_type is alert (int_supervision_stages joins the seed by object_type, so each stage is
-- one of the seed's), so checking the seed's six rows replaces the accepted_values
-- test that recomputed the whole view every night (scale 16: 3.7 s).
with limits as (

    select * from {{ ref('supervision_stage_limits') }}

)

select
    stage,
    object_type
from limits
where
    object_type = 'alert'
    and stage not in ('alert_acknowledge', 'alert_verify', 'alert_transfer')
